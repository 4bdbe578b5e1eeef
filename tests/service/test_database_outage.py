"""A database that drops the service's connections, goes away or stays locked: never a 500.

Dropped PostgreSQL connections (a restart, a failover) are replaced at checkout and the request
succeeds; a database that cannot be reached, or a SQLite file locked by another writer past the
busy timeout, answers 503 with `Retry-After` and the JSON error shape.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from sqlalchemy import make_url

from gatekeeper.attest.canonical import canonical_json
from gatekeeper.config import Settings
from gatekeeper.service import create_app
from gatekeeper.service.auth import create_token
from tests.service.conftest import bearer
from tests.service.live import ApiClient, PostgresDatabases, statement


@pytest.fixture
def database_url(postgres: PostgresDatabases) -> str:
    """A fresh migrated PostgreSQL database of its own."""
    return postgres.fresh()


@pytest.fixture
def pg_app(database_url: str, tmp_path: Path) -> Iterator[FastAPI]:
    """The app on that database."""
    application = create_app(Settings(data_dir=tmp_path / "data", database_url=database_url))
    yield application
    application.state.gatekeeper.engine.dispose()


def _admin_run(postgres: PostgresDatabases, sql: str, name: str) -> None:
    url = make_url(postgres.admin_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as admin:
        admin.execute(sql.replace("{db}", name))  # type: ignore[arg-type]  # test-made name


def _body(n: int) -> bytes:
    return canonical_json({"project": "acme/widget", "statement": statement(n)})


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    assert response.json()["error"]["code"] == "unavailable"
    assert "database" in response.json()["error"]["message"]


def test_sqlite_locked_past_the_busy_timeout_answers_503_then_recovers(tmp_path: Path) -> None:
    """Another process holding the SQLite write lock longer than `sqlite_busy_timeout`: ingest
    answers 503 (reads still answer, WAL), and once the lock is gone the same request stores."""
    settings = Settings(data_dir=tmp_path / "data", sqlite_busy_timeout=0.2)
    app = create_app(settings)
    token = create_token(app.state.gatekeeper.engine, ["admin"], [])[0]
    client = ApiClient(app)
    other = sqlite3.connect(tmp_path / "data" / "gatekeeper.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        _assert_unavailable(client.post("/v1/evidence", content=_body(1), headers=bearer(token)))
        page = client.get("/v1/evidence", params={"project": "acme/widget"}, headers=bearer(token))
        assert page.status_code == 200
        other.execute("ROLLBACK")
        stored = client.post("/v1/evidence", content=_body(1), headers=bearer(token))
        assert stored.status_code == 201, stored.text
        assert stored.json()["log_index"] == 0
    finally:
        other.close()
        client.close()
        app.state.gatekeeper.engine.dispose()


@pytest.mark.postgres
def test_connections_the_server_dropped_are_replaced(
    pg_app: FastAPI, postgres: PostgresDatabases, database_url: str
) -> None:
    """After the server terminates every connection of the service, the next ingest and query
    still succeed (the pool replaces the dead connections instead of failing a request)."""
    token = create_token(pg_app.state.gatekeeper.engine, ["admin"], [])[0]
    client = ApiClient(pg_app)
    try:
        first = client.post("/v1/evidence", content=_body(1), headers=bearer(token))
        assert first.status_code == 201
        name = make_url(database_url).database or ""
        _admin_run(
            postgres,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = '{db}' AND pid <> pg_backend_pid()",
            name,
        )
        again = client.post("/v1/evidence", content=_body(2), headers=bearer(token))
        assert again.status_code == 201, again.text
        assert again.json()["log_index"] == 1
        page = client.get("/v1/evidence", params={"project": "acme/widget"}, headers=bearer(token))
        assert page.status_code == 200
        assert len(page.json()["records"]) == 2
    finally:
        client.close()


@pytest.mark.postgres
def test_unreachable_database_answers_503_with_retry_after(
    pg_app: FastAPI, postgres: PostgresDatabases, database_url: str
) -> None:
    """With the database gone, ingest, query and readiness answer 503 in the JSON error shape,
    with Retry-After, and the client's retry loop treats that as retryable."""
    token = create_token(pg_app.state.gatekeeper.engine, ["admin"], [])[0]
    client = ApiClient(pg_app)
    try:
        name = make_url(database_url).database or ""
        _admin_run(postgres, 'DROP DATABASE "{db}" WITH (FORCE)', name)
        _assert_unavailable(client.post("/v1/evidence", content=_body(1), headers=bearer(token)))
        _assert_unavailable(
            client.get("/v1/evidence", params={"project": "acme/widget"}, headers=bearer(token))
        )
        assert client.get("/readyz").status_code == 503
    finally:
        client.close()
