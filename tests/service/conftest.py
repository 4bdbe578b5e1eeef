"""Fixtures of the service tests: SQLite in tmp_path and PostgreSQL, apps, clients, tokens."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI

from gatekeeper.config import Settings
from gatekeeper.service import create_app
from gatekeeper.service.auth import create_token
from tests.service.live import ApiClient, PostgresDatabases, RunningService, start_service

PG_ENV = "GATEKEEPER_TEST_POSTGRES_URL"
PG_SKIP = (
    f"set {PG_ENV}=postgresql+psycopg://postgres@127.0.0.1:5432/postgres to run "
    "the PostgreSQL tests"
)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresDatabases]:
    """A session's PostgreSQL databases (gk_test_<random>_N), dropped at the end."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(PG_SKIP)
    databases = PostgresDatabases(url)
    databases.create_template()
    try:
        yield databases
    finally:
        databases.drop_all()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """Each test using it runs on SQLite and on PostgreSQL."""
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings of a fresh store: the embedded SQLite default, or a fresh PostgreSQL database."""
    database_url = None
    if backend == "postgres":
        database_url = request.getfixturevalue("postgres").fresh()
    return Settings(data_dir=tmp_path / "data", database_url=database_url, max_body_bytes=65536)


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    """The app on a fresh store."""
    application = create_app(settings)
    yield application
    application.state.gatekeeper.engine.dispose()


@pytest.fixture
def api(app: FastAPI) -> Iterator[ApiClient]:
    """An HTTP client talking to the app in-process."""
    client = ApiClient(app)
    yield client
    client.close()


@dataclass(frozen=True)
class Tokens:
    """One token of each kind, for project acme/widget."""

    read: str
    ingest: str
    ingest_other: str
    admin: str
    read_other: str


@pytest.fixture
def tokens(app: FastAPI) -> Tokens:
    """Tokens of every kind on the app's store."""
    engine = app.state.gatekeeper.engine
    return Tokens(
        read=create_token(engine, ["read"], ["acme/widget"])[0],
        ingest=create_token(engine, ["ingest"], ["acme/widget"])[0],
        ingest_other=create_token(engine, ["ingest"], ["other/thing"])[0],
        admin=create_token(engine, ["admin"], [])[0],
        read_other=create_token(engine, ["read"], ["other/thing"])[0],
    )


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for `token`."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def live_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    """A real `gatekeeper serve` process on SQLite, on a free loopback port (one per module)."""
    with start_service(tmp_path_factory.mktemp("live")) as service:
        yield service
