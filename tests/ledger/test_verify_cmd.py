"""`gatekeeper verify`: exit codes, named failures, pinned keys, old checkpoints, JSON output."""

from __future__ import annotations

import json
import sys
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from gatekeeper.attest.keys import SigningKey
from gatekeeper.cli import main
from gatekeeper.ledger import MemoryTree, sign_checkpoint, signed_note_text, verifier_key
from gatekeeper.ledger.testing import ORIGIN, write_sample_bundle
from tests.cli import run_gatekeeper

KEY = SigningKey.from_seed(b"\x31" * 32)


@dataclass
class _Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., _Result]:
    """`gatekeeper verify ARGS` in this process, through the CLI's real entry point."""

    def _run(*args: str | Path) -> _Result:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["gatekeeper", "verify", *map(str, args)])
        with pytest.raises(SystemExit) as caught:
            main()
        out, err = capsys.readouterr()
        return _Result(int(caught.value.code or 0), out, err)

    return _run


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, MemoryTree]:
    path = tmp_path_factory.mktemp("cli") / "bundle.zip"
    tree, _checkpoint = write_sample_bundle(path, 12, KEY)
    return path, tree


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "service.pem"
    path.write_text(KEY.public.public_pem())
    return path


def _tampered(source: Path, target: Path) -> Path:
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    lines = members["records.jsonl"].split(b"\n")
    lines[4] = lines[4].replace(b'"integrated_at":"2026', b'"integrated_at":"2025')
    members["records.jsonl"] = b"\n".join(lines)
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return target


def test_a_good_bundle_exits_0_as_a_process(
    bundle: tuple[Path, MemoryTree], key_file: Path
) -> None:
    """A good bundle with the pinned key exits 0 and says OK with the record count."""
    result = run_gatekeeper("verify", str(bundle[0]), "--key", str(key_file))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: 12 record(s); tree size 12")
    assert f"pinned key {KEY.key_id}" in result.stdout


def test_a_tampered_bundle_exits_1_and_names_the_record(
    bundle: tuple[Path, MemoryTree], tmp_path: Path, run: Callable[..., _Result], key_file: Path
) -> None:
    """A changed record exits 1, prints it as FAIL with its line and id, and no traceback."""
    result = run(_tampered(bundle[0], tmp_path / "bad.zip"), "--key", key_file)
    assert result.returncode == 1
    assert "FAIL record 5 (id rec-00000004, log index 4): " in result.stdout
    assert "problem(s) found" in result.stderr
    assert "Traceback" not in result.stderr


def test_json_output_lists_the_failures(
    bundle: tuple[Path, MemoryTree], tmp_path: Path, run: Callable[..., _Result], key_file: Path
) -> None:
    """--format json prints one object with ok, records and each failure's place."""
    result = run(_tampered(bundle[0], tmp_path / "bad.zip"), "--format", "json", "--key", key_file)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["records"] == 12
    assert {f["record"] for f in report["failures"] if f["record"]} == {5}


def test_unreadable_input_exits_2(
    tmp_path: Path, bundle: tuple[Path, MemoryTree], run: Callable[..., _Result], key_file: Path
) -> None:
    """A missing bundle, a non-zip or an unreadable key file exit 2 with one line."""
    missing = run(tmp_path / "nope.zip", "--key", key_file)
    assert missing.returncode == 2
    assert "nope.zip: not a readable bundle zip" in missing.stderr
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"PK but not really")
    assert run(garbage, "--key", key_file).returncode == 2
    no_key = run(bundle[0], "--key", tmp_path / "missing.pem")
    assert no_key.returncode == 2
    assert "missing.pem: cannot be read" in no_key.stderr
    bad_key = tmp_path / "bad.pem"
    bad_key.write_text("not a key")
    assert run(bundle[0], "--key", bad_key).returncode == 2
    bad_checkpoint = tmp_path / "old.json"
    bad_checkpoint.write_text('{"size": 1, "size": 2}')
    result = run(bundle[0], "--checkpoint", bad_checkpoint, "--key", key_file)
    assert result.returncode == 2
    assert "old.json: duplicate key 'size'" in result.stderr
    assert run(bundle[0], "--service", "http://127.0.0.1:1", "--key", key_file).returncode == 2
    good_old = tmp_path / "good-old.json"
    good_old.write_text(json.dumps(sign_checkpoint(ORIGIN, 5, bundle[1].root(5), KEY).model_dump()))
    unreachable = run(
        bundle[0], "--checkpoint", good_old, "--service", "http://127.0.0.1:1", "--key", key_file
    )
    assert unreachable.returncode == 2
    assert "cannot fetch the consistency proof" in unreachable.stderr


def test_an_old_checkpoint_without_a_proof_fails(
    bundle: tuple[Path, MemoryTree], tmp_path: Path, run: Callable[..., _Result], key_file: Path
) -> None:
    """--checkpoint OLD without a bundled proof or --service fails and says what to do."""
    path, tree = bundle
    old = tmp_path / "old.json"
    old.write_text(json.dumps(sign_checkpoint(ORIGIN, 5, tree.root(5), KEY).model_dump()))
    result = run(path, "--checkpoint", old, "--key", key_file)
    assert result.returncode == 1
    assert "since_size=5 or pass --service URL" in result.stdout


class _ProofServer(ThreadingHTTPServer):
    tree: MemoryTree
    seen: list[str]


class _ProofHandler(BaseHTTPRequestHandler):
    server: _ProofServer

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = {k: int(v[0]) for k, v in parse_qs(url.query).items()}
        self.server.seen.append(f"{url.path} {self.headers.get('Authorization')}")
        hashes = self.server.tree.consistency_proof(query["old"], query["new"])
        body = json.dumps({**query, "hashes": [h.hex() for h in hashes]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def proof_server(bundle: tuple[Path, MemoryTree]) -> Iterator[_ProofServer]:
    server = _ProofServer(("127.0.0.1", 0), _ProofHandler)
    server.tree, server.seen = bundle[1], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def test_an_old_checkpoint_is_proven_with_the_services_proof(  # noqa: PLR0917 (fixtures)
    bundle: tuple[Path, MemoryTree],
    tmp_path: Path,
    proof_server: _ProofServer,
    run: Callable[..., _Result],
    monkeypatch: pytest.MonkeyPatch,
    key_file: Path,
) -> None:
    """--checkpoint OLD --service URL fetches the consistency proof with the token, checks it."""
    path, tree = bundle
    old = tmp_path / "old.json"
    old.write_text(json.dumps(sign_checkpoint(ORIGIN, 5, tree.root(5), KEY).model_dump()))
    url = f"http://127.0.0.1:{proof_server.server_address[1]}"
    monkeypatch.setenv("GATEKEEPER_TOKEN", "gk_read_secret")
    result = run(path, "--checkpoint", old, "--service", url, "--key", key_file)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("; the log only grew since size 5")
    assert proof_server.seen == ["/v1/log/proof/consistency Bearer gk_read_secret"]
    forked = MemoryTree()
    for number in range(5):
        forked.append(b"other %d" % number)
    old.write_text(json.dumps(sign_checkpoint(ORIGIN, 5, forked.root(), KEY).model_dump()))
    result = run(path, "--checkpoint", old, "--service", url, "--key", key_file)
    assert result.returncode == 1
    assert "FAIL old checkpoint: the log did not only grow" in result.stdout


def test_without_a_pinned_key_verify_refuses_to_say_ok(
    bundle: tuple[Path, MemoryTree], run: Callable[..., _Result], key_file: Path
) -> None:
    """Without --key or --keys, verify exits 2 with a sentence telling how to pin a key."""
    result = run(bundle[0])
    assert result.returncode == 2
    assert "no key is pinned: pass --key FILE" in result.stderr
    assert "OK" not in result.stdout
    both = run(bundle[0], "--trust-bundle-keys", "--key", key_file)
    assert both.returncode == 2
    assert "cannot be combined" in both.stderr


def test_trusting_the_bundles_keys_says_so_on_the_last_line(
    bundle: tuple[Path, MemoryTree], run: Callable[..., _Result]
) -> None:
    """--trust-bundle-keys checks self-consistency and its last line says that is all it proved."""
    result = run(bundle[0], "--trust-bundle-keys")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.rstrip().splitlines()
    assert "keys from the bundle" in lines[-2]
    assert lines[-1].startswith("self-consistency only:")


def test_a_bundle_resigned_by_an_attacker_fails_against_the_pinned_key(
    tmp_path: Path, run: Callable[..., _Result], key_file: Path
) -> None:
    """A bundle rebuilt and signed with another key passes self-consistency but not --key."""
    forged = tmp_path / "forged.zip"
    write_sample_bundle(forged, 11, SigningKey.from_seed(b"\x66" * 32))
    assert run(forged, "--trust-bundle-keys").returncode == 0
    result = run(forged, "--key", key_file)
    assert result.returncode == 1
    assert "FAIL checkpoint.json: signed by unknown key" in result.stdout
    assert "FAIL manifest.json" in result.stdout
    assert "FAIL record 1 (id rec-00000000" in result.stdout


def test_keys_file_pins_every_key_it_holds(
    tmp_path: Path, bundle: tuple[Path, MemoryTree], run: Callable[..., _Result]
) -> None:
    """--keys FILE holds several keys (PEM and verifier key lines); the bundle passes with it."""
    other = SigningKey.from_seed(b"\x67" * 32)
    keys = tmp_path / "keys.txt"
    keys.write_text(f"# retired\n{other.public.public_pem()}\n{verifier_key(ORIGIN, KEY.public)}\n")
    result = run(bundle[0], "--keys", keys)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"pinned key {other.key_id}, {KEY.key_id}" in result.stdout
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    refused = run(bundle[0], "--keys", empty)
    assert refused.returncode == 2
    assert "holds no key" in refused.stderr


def test_an_old_checkpoint_as_signed_note_text_is_accepted(
    bundle: tuple[Path, MemoryTree],
    tmp_path: Path,
    run: Callable[..., _Result],
    key_file: Path,
    proof_server: _ProofServer,
) -> None:
    """--checkpoint takes the service's signed-note text too, read with the pinned key."""
    path, tree = bundle
    old = sign_checkpoint(ORIGIN, 5, tree.root(5), KEY)
    note = tmp_path / "old.note"
    note.write_text(signed_note_text(old, ORIGIN, KEY.public))
    url = f"http://127.0.0.1:{proof_server.server_address[1]}"
    result = run(path, "--checkpoint", note, "--service", url, "--key", key_file)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("; the log only grew since size 5")
    unpinned = run(path, "--checkpoint", note, "--trust-bundle-keys")
    assert unpinned.returncode == 2
    assert "old.note: a signed-note checkpoint is read with --key or --keys" in unpinned.stderr
