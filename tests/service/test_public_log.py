"""The log's checkpoint and proofs are public (DESIGN: sizes and hashes only); records are not."""

from __future__ import annotations

from tests.service.conftest import Tokens, bearer
from tests.service.live import ApiClient, statement

_PUBLIC = (
    "/v1/log/checkpoint",
    "/v1/log/checkpoint/note",
    "/v1/log/proof/inclusion?index=0&size=4",
    "/v1/log/proof/inclusion?index=3&size=4",
    "/v1/log/proof/consistency?old=1&new=4",
    "/v1/log/proof/consistency?old=2&new=3",
)


def _store(api: ApiClient, token: str, project: str, n: int) -> dict[str, object]:
    body = {"project": project, "statement": statement(n, project=project)}
    answer = api.post("/v1/evidence", json=body, headers=bearer(token))
    assert answer.status_code == 201, answer.text
    record: dict[str, object] = answer.json()
    return record


def test_checkpoint_and_proofs_answer_without_a_token_and_name_no_record(
    api: ApiClient, tokens: Tokens
) -> None:
    """Without any token the checkpoint, its signed note and both proofs answer 200, and none
    of them carries a record id, a project name or a statement of either project."""
    records = [
        _store(api, tokens.admin, project, n)
        for n, project in enumerate(("acme/widget", "other/secret", "other/secret", "acme/widget"))
    ]
    for path in _PUBLIC:
        answer = api.get(path)
        assert answer.status_code == 200, (path, answer.text)
        for record in records:
            assert str(record["id"]) not in answer.text
            envelope = record["envelope"]
            assert isinstance(envelope, dict)
            assert envelope["payload"][:40] not in answer.text
        assert "acme/widget" not in answer.text
        assert "other/secret" not in answer.text
    assert set(api.get("/v1/log/checkpoint").json()) == {
        "size",
        "root_hash",
        "key_id",
        "note",
        "signature",
        "cosignatures",
    }
    assert set(api.get(_PUBLIC[2]).json()) == {"index", "size", "hashes"}
    assert set(api.get(_PUBLIC[4]).json()) == {"old", "new", "hashes"}


def test_records_stay_behind_a_read_token_of_their_project(api: ApiClient, tokens: Tokens) -> None:
    """The records themselves still need a read token: none gets 401, another project's 404/403."""
    record = _store(api, tokens.admin, "acme/widget", 1)
    assert api.get(f"/v1/evidence/{record['id']}").status_code == 401
    assert api.get("/v1/evidence?project=acme/widget").status_code == 401
    assert api.get("/v1/export?project=acme/widget").status_code == 401
    other = bearer(tokens.read_other)
    assert api.get(f"/v1/evidence/{record['id']}", headers=other).status_code == 404
    assert api.get("/v1/log/proof/inclusion?index=0&size=1", headers=other).status_code == 200


def test_the_openapi_document_says_the_log_is_public(api: ApiClient) -> None:
    """The OpenAPI operations of the log name no 401/403 answer and say no token is needed."""
    paths = api.get("/openapi.json").json()["paths"]
    for path in ("/v1/log/checkpoint", "/v1/log/proof/inclusion", "/v1/log/proof/consistency"):
        operation = paths[path]["get"]
        assert "401" not in operation["responses"]
        assert "403" not in operation["responses"]
        assert "no token needed" in " ".join(operation["description"].split())
