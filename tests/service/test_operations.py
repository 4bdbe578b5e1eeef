"""Operations that never fail silently: file modes, readiness without driver text, backups."""

from __future__ import annotations

import json
import logging
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import text

from gatekeeper.cli.app import main
from gatekeeper.config import Settings
from gatekeeper.service import create_app
from gatekeeper.service.auth import create_token
from gatekeeper.service.middleware import JsonLogFormatter
from tests.service.conftest import Tokens, bearer
from tests.service.live import ApiClient, statement


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0)
    yield
    os.umask(previous)


@pytest.mark.usefixtures("open_umask")
def test_data_dir_and_sqlite_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    """With umask 0 the data dir is 0700 and the database, its WAL and SHM are 0600."""
    data = tmp_path / "data"
    app = create_app(Settings(data_dir=data))
    engine = app.state.gatekeeper.engine
    try:
        token = create_token(engine, ["admin"], [])[0]
        api = ApiClient(app)
        stored = api.post(
            "/v1/evidence",
            json={"project": "acme/widget", "statement": statement(1)},
            headers=bearer(token),
        )
        assert stored.status_code == 201, stored.text
        api.close()
        assert _mode(data) == 0o700
        files = [
            data / name for name in ("gatekeeper.db", "gatekeeper.db-wal", "gatekeeper.db-shm")
        ]
        assert all(path.exists() for path in files)
        assert [_mode(path) for path in files] == [0o600] * 3
    finally:
        engine.dispose()


def test_an_existing_wide_data_dir_and_database_are_narrowed(tmp_path: Path) -> None:
    """A data dir and database left readable by others are narrowed at start."""
    data = tmp_path / "data"
    create_app(Settings(data_dir=data)).state.gatekeeper.engine.dispose()
    os.chmod(data, 0o755)
    os.chmod(data / "gatekeeper.db", 0o644)
    create_app(Settings(data_dir=data)).state.gatekeeper.engine.dispose()
    assert (_mode(data), _mode(data / "gatekeeper.db")) == (0o700, 0o600)


def test_readyz_keeps_the_reason_for_the_log(
    app: FastAPI, api: ApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A failed readiness check answers a fixed sentence; the reason (here the schema revision)
    is logged; a passing check logs no migration-tool lines."""
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            assert api.get("/readyz").status_code == 200
    assert [r for r in caplog.records if r.name.startswith("alembic")] == []
    with app.state.gatekeeper.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    with caplog.at_level(logging.INFO):
        answer = api.get("/readyz")
    assert answer.status_code == 503
    assert "0001" not in answer.text
    assert answer.json()["detail"].endswith("see the service log")
    assert any("0001" in r.getMessage() for r in caplog.records if r.name.endswith("health"))


def _post(api: ApiClient, token: str, n: int) -> None:
    response = api.post(
        "/v1/evidence",
        json={"project": "acme/widget", "statement": statement(n)},
        headers=bearer(token),
    )
    assert response.status_code == 201, response.text


def test_backup_refuses_an_existing_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`db backup` never overwrites: an existing FILE is a usage error."""
    create_app(Settings(data_dir=tmp_path)).state.gatekeeper.engine.dispose()
    existing = tmp_path / "old.db"
    existing.write_bytes(b"keep")
    monkeypatch.setenv("GATEKEEPER_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(sys, "argv", ["gatekeeper", "db", "backup", str(existing)])
    with pytest.raises(SystemExit) as caught:
        main()
    assert caught.value.code == 2
    assert "exists" in capsys.readouterr().err
    assert existing.read_bytes() == b"keep"


def test_an_unhandled_error_is_a_json_500_with_the_request_id(
    app: FastAPI, api: ApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug in a handler answers 500 in the JSON error shape with X-Request-ID, and the log
    line of the traceback carries the same id."""

    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken", broken)
    with caplog.at_level(logging.ERROR):
        answer = api.get("/broken", headers={"X-Request-ID": "trace-42"})
    assert answer.status_code == 500
    assert answer.headers["x-request-id"] == "trace-42"
    assert answer.json()["error"]["code"] == "internal"
    assert "trace-42" in answer.json()["error"]["message"]
    logged = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(logged) == 1
    assert logged[0].exc_info is not None
    assert "trace-42" in JsonLogFormatter().format(logged[0])


@pytest.mark.parametrize("digits", [30, 5000, 40_000])
def test_a_huge_json_integer_is_a_422_with_a_sentence(
    api: ApiClient, tokens: Tokens, digits: int
) -> None:
    """An integer of thousands of digits (past Python's int-str limit) is refused with one
    sentence, never a 500, and the sentence does not echo the digits."""
    body = statement(1)
    body["predicate"] = {"count": 7}
    raw = json.dumps({"project": "acme/widget", "statement": body}).replace(
        "7}", "9" * digits + "}"
    )
    answer = api.post(
        "/v1/evidence",
        content=raw.encode(),
        headers={**bearer(tokens.ingest), "content-type": "application/json"},
    )
    assert answer.status_code == 422, answer.text
    message = answer.json()["error"]["message"]
    assert "beyond 2^53-1" in message
    assert len(message) < 300


def test_an_unknown_query_parameter_is_a_422_naming_it(api: ApiClient, tokens: Tokens) -> None:
    """A misspelt filter is refused rather than ignored (which would answer every record)."""
    _post(api, tokens.admin, 1)
    read = bearer(tokens.read)
    answer = api.get("/v1/evidence", params={"projet": "acme/widget"}, headers=read)
    assert answer.status_code == 422
    assert "'projet'" in answer.json()["error"]["message"]
    assert "project" in answer.json()["error"]["message"]
    assert api.get("/v1/log/checkpoint", params={"x": "1"}, headers=read).status_code == 422
    good = api.get("/v1/evidence", params={"project": "acme/widget", "limit": 5}, headers=read)
    assert good.status_code == 200
