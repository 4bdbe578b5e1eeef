"""Page test fixtures: an app on SQLite in tmp_path, tokens, records stored through the API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI

from gatekeeper.config import Settings
from gatekeeper.service import create_app
from gatekeeper.service.auth import create_token
from gatekeeper.service.pages import COOKIE
from tests.pages.evidence import HOSTILE_TITLE, verdict_statement
from tests.service.conftest import backend, postgres
from tests.service.live import ApiClient

__all__ = ["backend", "postgres"]  # the service tests' fixtures: SQLite and PostgreSQL runs


@dataclass(frozen=True)
class Tokens:
    """A read token, an ingest-only token, and a read token of another project."""

    read: str
    ingest: str
    read_other: str


@dataclass(frozen=True)
class Stored:
    """The ids of the stored records: two passing, one failing with a hostile PR title."""

    passing: tuple[str, str]
    failing: str


@pytest.fixture
def app(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[FastAPI]:
    """The service app on a fresh store: embedded SQLite, or a fresh PostgreSQL database."""
    database_url = request.getfixturevalue("postgres").fresh() if backend == "postgres" else None
    application = create_app(Settings(data_dir=tmp_path / "data", database_url=database_url))
    yield application
    application.state.gatekeeper.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[ApiClient]:
    """An HTTP client talking to the app in-process."""
    http = ApiClient(app)
    yield http
    http.close()


@pytest.fixture
def tokens(app: FastAPI) -> Tokens:
    """Tokens bound to acme/widget (and one to other/thing)."""
    engine = app.state.gatekeeper.engine
    return Tokens(
        read=create_token(engine, ["read"], ["acme/widget"])[0],
        ingest=create_token(engine, ["ingest"], ["acme/widget"])[0],
        read_other=create_token(engine, ["read"], ["other/thing"])[0],
    )


@pytest.fixture
def stored(client: ApiClient, tokens: Tokens) -> Stored:
    """Three records stored through POST /v1/evidence."""
    ids = []
    for n, passing, title in ((1, True, "Add widget"), (2, False, HOSTILE_TITLE), (3, True, "x")):
        body = {
            "project": "acme/widget",
            "statement": verdict_statement(n, passing=passing, title=title),
        }
        response = client.post("/v1/evidence", json=body, headers=bearer(tokens.ingest))
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return Stored(passing=(ids[0], ids[2]), failing=ids[1])


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for `token`."""
    return {"Authorization": f"Bearer {token}"}


def session(token: str) -> dict[str, str]:
    """The Cookie header a signed-in browser sends."""
    return {"Cookie": f"{COOKIE}={token}"}
