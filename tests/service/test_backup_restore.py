"""A backup restored into a fresh database (docs/service.md, Backups and restore): `log audit`
passes on it, and bundles exported before and after verify, pinned to the service's key, with
the later one proving the earlier checkpoint (consistency)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import make_url

from gatekeeper.cli.app import main
from gatekeeper.config import Settings
from gatekeeper.ledger.bundle.verify import verify_bundle
from gatekeeper.ledger.checkpoint import checkpoint_from_json
from gatekeeper.service import create_app
from gatekeeper.service.auth import create_token
from tests.service.conftest import bearer
from tests.service.live import ApiClient, PostgresDatabases, statement


def _gatekeeper(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["gatekeeper", *args])
    with pytest.raises(SystemExit) as caught:
        main()
    captured = capsys.readouterr()
    return int(caught.value.code or 0), captured.out + captured.err


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _backup_and_restore(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    postgres: PostgresDatabases | None,
) -> Settings:
    """`db backup` (SQLite, while the service holds its connections) or `pg_dump`, restored
    the documented way; the settings of the restored store."""
    if postgres is None:
        backup = tmp_path / "backup.db"
        monkeypatch.setenv("GATEKEEPER_DATA_DIR", str(settings.data_dir))
        code, said = _gatekeeper(monkeypatch, capsys, "db", "backup", str(backup))
        assert code == 0, said
        assert backup.stat().st_mode & 0o777 == 0o600  # the copy holds the whole log
        restored = tmp_path / "restored"
        restored.mkdir(mode=0o700)
        shutil.copyfile(backup, restored / "gatekeeper.db")
        shutil.copytree(settings.data_dir / "keys", restored / "keys")
        return settings.model_copy(update={"data_dir": restored})
    assert settings.database_url is not None
    dump = tmp_path / "gatekeeper.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", f"--file={dump}", _libpq(settings.database_url)],
        check=True,
        capture_output=True,
    )
    target = postgres.fresh(migrated=False)
    subprocess.run(
        ["pg_restore", "--no-owner", f"--dbname={_libpq(target)}", str(dump)],
        check=True,
        capture_output=True,
    )
    return settings.model_copy(update={"database_url": target})


def _post(api: ApiClient, token: str, n: int) -> None:
    body = {"project": "acme/widget", "statement": statement(n)}
    assert api.post("/v1/evidence", json=body, headers=bearer(token)).status_code == 201


@pytest.fixture
def postgres_or_none(backend: str, request: pytest.FixtureRequest) -> PostgresDatabases | None:
    """The PostgreSQL databases on the PostgreSQL run (pg_dump and pg_restore needed)."""
    if backend == "sqlite":
        return None
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip(
            "pg_dump and pg_restore are not installed: apt-get install postgresql-client to run"
            " the PostgreSQL restore test"
        )
    databases: PostgresDatabases = request.getfixturevalue("postgres")
    return databases


def test_a_restored_backup_audits_clean_and_extends_the_old_log(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    postgres_or_none: PostgresDatabases | None,
) -> None:
    """Back up a store of three records, restore it into a fresh database, audit it, append two
    more; the bundle from before and the one from after both verify with the pinned key, and
    the later proves the earlier checkpoint."""
    postgres = postgres_or_none
    app = create_app(settings)
    token = create_token(app.state.gatekeeper.engine, ["admin"], [])[0]
    api = ApiClient(app)
    for n in range(3):
        _post(api, token, n)
    old = api.get("/v1/log/checkpoint", headers=bearer(token)).json()
    key = tmp_path / "service.pem"
    key.write_text(api.get("/v1/keys").json()["keys"][0]["public_key_pem"])
    before = tmp_path / "before.zip"
    before.write_bytes(api.get("/v1/export", headers=bearer(token)).content)
    try:
        restored = _backup_and_restore(settings, tmp_path, monkeypatch, capsys, postgres)
    finally:
        api.close()
        app.state.gatekeeper.engine.dispose()

    code, said = _gatekeeper(
        monkeypatch, capsys, "log", "audit", "--database", restored.database_url_or_default()
    )
    assert code == 0, said
    assert "OK log audit: 3 leaves, 3 records" in said

    app = create_app(restored)
    api = ApiClient(app)
    try:
        for n in range(3, 5):
            _post(api, token, n)
        after = tmp_path / "after.zip"
        exported = api.get("/v1/export", params={"since_size": 3}, headers=bearer(token))
        after.write_bytes(exported.content)
    finally:
        api.close()
        app.state.gatekeeper.engine.dispose()
    pinned = key.read_bytes()
    assert verify_bundle(before, pinned_key_pem=pinned).ok
    report = verify_bundle(after, pinned_key_pem=pinned, old_checkpoint=checkpoint_from_json(old))
    assert report.ok, report.failures
    assert report.checkpoint is not None
    assert report.checkpoint.size == 5
    code, said = _gatekeeper(
        monkeypatch,
        capsys,
        "verify",
        str(after),
        "--key",
        str(key),
        "--checkpoint",
        str(_write(tmp_path / "old.json", old)),
    )
    assert code == 0, said


def _write(path: Path, value: object) -> Path:
    path.write_text(json.dumps(value))
    return path
