"""`gatekeeper witness`, `keys rotate` and `verify` as processes against `gatekeeper serve`."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from gatekeeper.attest.keys import SigningKey
from gatekeeper.config import Settings
from gatekeeper.service.app import open_engine
from gatekeeper.service.auth import create_token
from tests.cli import run_gatekeeper
from tests.service.attacker import drop_triggers, rewrite_tail
from tests.service.conftest import bearer
from tests.service.live import RunningService, start_service, statement


def _post(service: RunningService, token: str, *numbers: int) -> None:
    for number in numbers:
        response = httpx.post(
            f"{service.url}/v1/evidence",
            json={"project": "acme/widget", "statement": statement(number)},
            headers=bearer(token),
        )
        assert response.status_code == 201, response.text


def _export(service: RunningService, path: Path, **params: str | int) -> Path:
    response = httpx.get(
        f"{service.url}/v1/export", params=params, headers=bearer(service.admin_token)
    )
    assert response.status_code == 200, response.text
    path.write_bytes(response.content)
    return path


def test_witness_rotation_and_verify_as_a_user_runs_them(
    settings: Settings, tmp_path: Path
) -> None:
    """Across two logged rotations the witness cosigns twice and `verify --key FIRST
    --witness-key --checkpoint OLD.note` passes on a bundle whose checkpoint a retired key
    signed; after the owner rebuilds the tail the witness exits 1 with a sentence (state
    unchanged) and verify fails."""
    witness_key = tmp_path / "witness.pem"
    witness_key.write_bytes(SigningKey.from_seed(b"\x31" * 32).private_pem())
    witness_pub = tmp_path / "witness.pub"
    witness_pub.write_text(SigningKey.from_seed(b"\x31" * 32).public.public_pem())
    state = tmp_path / "state.json"
    env = {"GATEKEEPER_WITNESS_KEYS": str(witness_pub)}
    data_dir = tmp_path / "data"
    with start_service(data_dir, settings.database_url, extra_env=env) as service:
        engine = open_engine(Settings(data_dir=data_dir, database_url=settings.database_url))
        ingest = create_token(engine, ["ingest"], ["acme/widget"])[0]
        read = create_token(engine, ["read"], ["acme/widget"])[0]
        first_key = tmp_path / "first.pem"
        keys = httpx.get(f"{service.url}/v1/keys").json()["keys"]
        first_key.write_text(keys[0]["public_key_pem"])
        witness_env = {**service.env, "GATEKEEPER_TOKEN": read}
        read_h = bearer(read)
        args = [*("witness", "--service", service.url, "--key", str(witness_key))]
        args += ["--state", str(state), "--name", "qa.example/witness"]
        _post(service, ingest, 1, 2)
        rotated = run_gatekeeper("keys", "rotate", env=service.env)
        assert rotated.returncode == 0, rotated.stderr
        assert "key transition logged:" in rotated.stdout
        _post(service, ingest, 3)
        note = tmp_path / "size4.note"
        note.write_text(httpx.get(f"{service.url}/v1/log/checkpoint/note", headers=read_h).text)
        once = run_gatekeeper(*args, env=witness_env)
        assert once.returncode == 0, once.stderr
        assert "first run: pinned the service's current key" in once.stdout
        _post(service, ingest, 4)
        twice = run_gatekeeper(*args, env=witness_env)
        assert twice.returncode == 0, twice.stderr
        assert " at size 5 " in twice.stdout
        assert run_gatekeeper("keys", "rotate", env=service.env).returncode == 0
        _post(service, ingest, 5)
        witnessed = _export(service, tmp_path / "witnessed.zip", witnessed="true", since_size=4)
        verify = ["verify", str(witnessed), "--key", str(first_key)]
        verify += ["--witness-key", str(witness_pub), "--checkpoint", str(note)]
        good = run_gatekeeper(*verify, env=witness_env)
        assert good.returncode == 0, good.stdout + good.stderr
        assert "tree size 5" in good.stdout  # signed by the key the second rotation retired
        assert "2 key transition(s) from it; cosigned by 1 witness(es)" in good.stdout
        assert good.stdout.rstrip().endswith("the log only grew since size 4")
        latest = _export(service, tmp_path / "latest.zip")
        chained = run_gatekeeper("verify", str(latest), "--key", str(first_key), env=witness_env)
        assert chained.returncode == 0, chained.stdout + chained.stderr
        assert "tree size 7" in chained.stdout
        assert "2 key transition(s) from it" in chained.stdout
        third = tmp_path / "third.pub"
        keys = httpx.get(f"{service.url}/v1/keys").json()["keys"]
        third.write_text(next(k["public_key_pem"] for k in keys if k["retired_at"] is None))
        before = state.read_bytes()
        drop_triggers(engine)
        origin = json.loads(before)["origin"]
        rewrite_tail(engine, data_dir, origin, 4, [statement(40), statement(6), statement(7)])
        pinned_after_rotation = run_gatekeeper(*args, env=witness_env)
        assert pinned_after_rotation.returncode == 1
        assert "pin the new key with --service-key" in pinned_after_rotation.stderr
        args += ["--service-key", str(third)]
        refused = run_gatekeeper(*args, env=witness_env)
        assert refused.returncode == 1
        assert "it was rewritten; not cosigned" in refused.stderr
        assert state.read_bytes() == before
        bad_bundle = _export(service, tmp_path / "rewritten.zip")
        bad = run_gatekeeper("verify", str(bad_bundle), *verify[2:6], env=witness_env)
        assert bad.returncode == 1
        assert "FAIL witnesses.json: 0 of the 1 witness keys cosigned" in bad.stdout
        engine.dispose()


def test_witness_bad_flags_exit_2_with_a_sentence(tmp_path: Path) -> None:
    """A bad --every or an unreadable --key is one line and exit 2, never a traceback."""
    key = tmp_path / "w.pem"
    key.write_bytes(SigningKey.generate().private_pem())
    common = ("witness", "--service", "http://127.0.0.1:9", "--state", str(tmp_path / "s.json"))
    every = run_gatekeeper(*common, "--key", str(key), "--every", "soon")
    assert every.returncode == 2
    assert "--every 'soon': give a duration like 60s, 5m or 1h" in every.stderr
    missing = run_gatekeeper(*common, "--key", str(tmp_path / "none.pem"))
    assert missing.returncode == 2
    assert "none.pem" in missing.stderr
    assert "Traceback" not in missing.stderr + every.stderr


def test_verify_witness_flags_that_cannot_work_exit_2(tmp_path: Path) -> None:
    """--witnesses beyond the given keys, or a witness key that is not a PEM key, is one line
    and exit 2."""
    key = tmp_path / "service.pem"
    key.write_text(SigningKey.generate().public.public_pem())
    witness = tmp_path / "w.pub"
    witness.write_text(SigningKey.generate().public.public_pem())
    bundle = tmp_path / "b.zip"
    bundle.write_bytes(b"")
    common = ("verify", str(bundle), "--key", str(key), "--witness-key")
    many = run_gatekeeper(*common, str(witness), "--witnesses", "2")
    assert many.returncode == 2
    assert "--witnesses 2: give 1 to the number of --witness-key keys" in many.stderr
    bad = run_gatekeeper(*common, str(key.with_name("missing.pub")))
    assert bad.returncode == 2
    assert "missing.pub" in bad.stderr
    garbage = tmp_path / "garbage.pub"
    garbage.write_text("not a key")
    wrong = run_gatekeeper(*common, str(garbage))
    assert wrong.returncode == 2
    assert "is not a witness public key in PEM" in wrong.stderr
