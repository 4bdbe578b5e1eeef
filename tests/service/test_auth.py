"""Access: the whole matrix of endpoint x token kind, revocation and expiry."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI

from gatekeeper.errors import UsageError
from gatekeeper.service.auth import create_token, list_tokens, revoke_token, token_digest
from tests.service.conftest import Tokens, bearer
from tests.service.live import ApiClient, statement

KINDS = ("none", "wrong", "read", "ingest_other", "ingest", "admin")
_READ = {"none": 401, "wrong": 401, "read": 200, "ingest_other": 403, "ingest": 403, "admin": 200}
_OPEN = dict.fromkeys(KINDS, 200)
_POST = {"none": 401, "wrong": 401, "read": 403, "ingest_other": 403, "ingest": 201, "admin": 201}

MATRIX = {
    ("POST", "/v1/evidence"): _POST,
    ("GET", "/v1/evidence?project=acme/widget"): _READ,
    ("GET", "/v1/evidence/{id}"): _READ,
    ("GET", "/v1/log/checkpoint"): _OPEN,
    ("GET", "/v1/log/checkpoint/note"): _OPEN,
    ("GET", "/v1/log/proof/inclusion?index=0&size=1"): _OPEN,
    ("GET", "/v1/log/proof/consistency?old=1&new=1"): _OPEN,
    ("GET", "/v1/export?project=acme/widget"): _READ,
    ("GET", "/v1/keys"): _OPEN,
    ("GET", "/healthz"): _OPEN,
    ("GET", "/readyz"): _OPEN,
}


def _headers(tokens: Tokens, kind: str) -> dict[str, str]:
    if kind == "none":
        return {}
    if kind == "wrong":
        return bearer("gk_000000000000_" + "x" * 43)
    return bearer(getattr(tokens, kind))


def test_every_endpoint_with_every_token_kind(api: ApiClient, tokens: Tokens) -> None:
    """Each endpoint answers 401/403/2xx exactly as the token kind allows, as JSON errors."""
    seed = api.post(
        "/v1/evidence",
        json={"project": "acme/widget", "statement": statement(0)},
        headers=bearer(tokens.admin),
    ).json()
    counter = itertools.count(1)
    failures = []
    for (method, path), expected in MATRIX.items():
        for kind in KINDS:
            kwargs: dict[str, object] = {"headers": _headers(tokens, kind)}
            if method == "POST":
                body = {"project": "acme/widget", "statement": statement(next(counter))}
                kwargs["json"] = body
            response = api.request(method, path.replace("{id}", seed["id"]), **kwargs)
            if response.status_code != expected[kind]:
                failures.append(f"{method} {path} as {kind}: {response.status_code}")
            elif response.status_code in (401, 403):
                assert response.json()["error"]["code"] in ("unauthorized", "forbidden")
                if response.status_code == 401:
                    assert response.headers["www-authenticate"] == "Bearer"
    assert not failures, failures


def test_read_token_of_another_project_cannot_see_records(api: ApiClient, tokens: Tokens) -> None:
    """A read token of another project gets 404 for a record id (naming no project), 403 for a
    listing of this project."""
    record = api.post(
        "/v1/evidence",
        json={"project": "acme/widget", "statement": statement(1)},
        headers=bearer(tokens.ingest),
    ).json()
    other = bearer(tokens.read_other)
    foreign = api.get(f"/v1/evidence/{record['id']}", headers=other)
    assert foreign.status_code == 404
    assert "acme/widget" not in foreign.text
    assert api.get("/v1/evidence?project=acme/widget", headers=other).status_code == 403
    assert api.get("/v1/evidence", headers=other).json()["records"] == []


def test_revoked_and_expired_tokens_get_401(app: FastAPI, api: ApiClient) -> None:
    """A revoked token and an expired token are refused like unknown ones."""
    engine = app.state.gatekeeper.engine
    revoked, info = create_token(engine, ["read"], ["acme/widget"])
    assert api.get("/v1/evidence?project=acme/widget", headers=bearer(revoked)).status_code == 200
    assert revoke_token(engine, info.token_id)
    assert not revoke_token(engine, info.token_id)
    past = datetime.now(UTC) - timedelta(seconds=1)
    expired, _ = create_token(engine, ["read"], ["acme/widget"], expires_at=past)
    for token in (revoked, expired):
        response = api.get("/v1/evidence?project=acme/widget", headers=bearer(token))
        assert response.status_code == 401


def test_tokens_are_stored_only_as_sha256(app: FastAPI) -> None:
    """The database keeps the SHA-256 of a token, never the token; admin spans all projects."""
    engine = app.state.gatekeeper.engine
    token, info = create_token(engine, ["admin"], ["acme/widget"])
    with engine.connect() as connection:
        dump = "\n".join(str(row) for row in connection.exec_driver_sql("SELECT * FROM tokens"))
    assert token not in dump
    assert token_digest(token) in dump
    assert info.all_projects
    assert info.projects == ()
    assert [t.token_id for t in list_tokens(engine)] == [info.token_id]
    with pytest.raises(UsageError, match="scope"):
        create_token(engine, ["write"], ["acme/widget"])
    with pytest.raises(UsageError, match="--project"):
        create_token(engine, ["read"], [])
