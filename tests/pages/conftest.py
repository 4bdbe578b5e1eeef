"""Page test fixtures: the service tests' app and tokens, records stored through the API."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from gatekeeper.service.pages import COOKIE
from tests.pages.evidence import HOSTILE_TITLE, verdict_statement
from tests.pages.history import History, store_history
from tests.service.conftest import (
    Tokens,
    api,
    app,
    backend,
    bearer,
    postgres,
    settings,
    tokens,
)
from tests.service.live import ApiClient

# the service tests' fixtures: the app on SQLite and on PostgreSQL, its client and tokens
__all__ = ["Tokens", "api", "app", "backend", "bearer", "postgres", "settings", "tokens"]


@dataclass(frozen=True)
class Stored:
    """The ids of the stored records: two passing, one failing with a hostile PR title."""

    passing: tuple[str, str]
    failing: str


@pytest.fixture
def client(api: ApiClient) -> ApiClient:
    """An HTTP client talking to the app in-process (the service tests' `api`)."""
    return api


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


def session(client: ApiClient, token: str) -> dict[str, str]:
    """The Cookie header of a browser signed in with `token` (through /ui/login)."""
    response = client.post("/ui/login", data={"token": token})
    assert response.status_code == 303, response.text
    session_id = response.cookies[COOKIE]
    return {"Cookie": f"{COOKIE}={session_id}"}


@pytest.fixture
def history(client: ApiClient, tokens: Tokens) -> History:
    """The workspace history (tests/pages/history.py) stored through the API."""
    return store_history(client, tokens.ingest)
