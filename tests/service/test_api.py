"""The API over HTTP (in-process) on SQLite and PostgreSQL: records, receipts, proofs, errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from gatekeeper.attest.dsse import Envelope, verify_envelope
from gatekeeper.attest.keys import VerifyingKey
from gatekeeper.ledger import merkle_hash, merkle_tree, merkle_verify
from gatekeeper.ledger.checkpoint import checkpoint_from_json, verify_checkpoint
from gatekeeper.service.records import RecordPage
from tests.service.conftest import Tokens, bearer
from tests.service.live import ApiClient, statement

PROJECT = "acme/widget"


def _post(api: ApiClient, token: str, n: int, **kwargs: str) -> dict:  # type: ignore[type-arg]
    response = api.post(
        "/v1/evidence",
        json={"project": PROJECT, "statement": statement(n, **kwargs)},
        headers=bearer(token),
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _keys(api: ApiClient) -> dict[str, VerifyingKey]:
    keys = api.get("/v1/keys").json()["keys"]
    return {k["key_id"]: VerifyingKey.from_public_pem(k["public_key_pem"]) for k in keys}


def test_record_and_receipt_verify_with_the_ledger_verifier(api: ApiClient, tokens: Tokens) -> None:
    """A stored record's signature, inclusion proof and checkpoint verify against /v1/keys."""
    for n in range(5):
        _post(api, tokens.ingest, n)
    record = api.get(
        f"/v1/evidence/{_post(api, tokens.ingest, 9)['id']}", headers=bearer(tokens.read)
    ).json()
    keys = _keys(api)
    envelope = Envelope.model_validate(record["envelope"])
    signed = json.loads(verify_envelope(envelope, keys))
    submitter = signed["predicate"].pop("submitter")
    assert signed == statement(9)
    assert submitter["kind"] == "token"
    receipt = record["receipt"]
    checkpoint = checkpoint_from_json(receipt["checkpoint"])
    verify_checkpoint(checkpoint, keys[checkpoint.key_id])
    leaf = json.dumps(record["envelope"], separators=(",", ":"), sort_keys=True).encode()
    assert merkle_hash.leaf_hash(leaf).hex() == record["leaf_hash"]
    proof = [bytes.fromhex(h) for h in receipt["inclusion_proof"]["hashes"]]
    merkle_verify.verify_inclusion(
        merkle_hash.leaf_hash(leaf), record["log_index"], checkpoint.size, proof, checkpoint.root()
    )


def test_same_content_again_answers_200_with_same_record(api: ApiClient, tokens: Tokens) -> None:
    """Posting the same statement twice gives 201 then 200 with the same record, one leaf."""
    body = {"project": PROJECT, "statement": statement(3)}
    first = api.post("/v1/evidence", json=body, headers=bearer(tokens.ingest))
    again = api.post("/v1/evidence", json=body, headers=bearer(tokens.admin))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    checkpoint = api.get("/v1/log/checkpoint", headers=bearer(tokens.read)).json()
    assert checkpoint["size"] == 1


def test_proofs_from_the_api_verify(api: ApiClient, tokens: Tokens) -> None:
    """Inclusion and consistency proofs served by the API verify with the RFC 9162 procedures."""
    leaves = [_post(api, tokens.ingest, n)["leaf_hash"] for n in range(11)]
    memory = merkle_tree.MemoryTree()
    for leaf in leaves:
        memory.append_hash(bytes.fromhex(leaf))
    read = bearer(tokens.read)
    for index, size in ((0, 1), (3, 7), (10, 11), (5, 8)):
        proof = api.get(f"/v1/log/proof/inclusion?index={index}&size={size}", headers=read).json()
        hashes = [bytes.fromhex(h) for h in proof["hashes"]]
        merkle_verify.verify_inclusion(
            bytes.fromhex(leaves[index]), index, size, hashes, memory.root(size)
        )
    for old, new in ((1, 11), (4, 8), (7, 11), (11, 11)):
        proof = api.get(f"/v1/log/proof/consistency?old={old}&new={new}", headers=read).json()
        hashes = [bytes.fromhex(h) for h in proof["hashes"]]
        merkle_verify.verify_consistency(old, new, memory.root(old), memory.root(new), hashes)


def test_query_filters_and_cursor_pagination(api: ApiClient, tokens: Tokens) -> None:
    """Filters narrow the records and the cursor walks every page exactly once."""
    for n in range(7):
        _post(api, tokens.ingest, n, verdict="fail" if n % 2 else "pass")
    read = bearer(tokens.read)
    seen: list[int] = []
    cursor = None
    while True:
        params = {"project": PROJECT, "verdict": "pass", "limit": "2"}
        if cursor:
            params["cursor"] = cursor
        response = api.get("/v1/evidence", params=params, headers=read)
        RecordPage.model_validate_json(response.content)
        page = response.json()
        seen += [r["log_index"] for r in page["records"]]
        assert all(
            r["receipt"]["inclusion_proof"]["size"] == r["log_index"] + 1 for r in page["records"]
        )
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [0, 2, 4, 6]
    by_commit = api.get(
        "/v1/evidence", params={"commit": f"{3:040x}"}, headers=bearer(tokens.admin)
    ).json()
    assert [r["log_index"] for r in by_commit["records"]] == [3]
    future = api.get("/v1/evidence", params={"since": "2999-01-01T00:00:00Z"}, headers=read)
    assert future.json()["records"] == []


def test_one_query_finds_the_records_of_a_page_of_commits(api: ApiClient, tokens: Tokens) -> None:
    """A release asks once for many commits; a bad list is a 422, and kind=release finds tags."""
    for n in range(4):
        _post(api, tokens.ingest, n)
    tagged = statement(9)
    tagged["predicate"]["facts"]["subject"]["ref"] = "refs/tags/v1.0.0"
    response = api.post(
        "/v1/evidence",
        json={"project": PROJECT, "statement": tagged},
        headers=bearer(tokens.ingest),
    )
    assert response.status_code == 201, response.text
    read = bearer(tokens.read)
    wanted = ",".join(f"{n:040x}" for n in (0, 2, 3, 77))
    page = api.get("/v1/evidence", params={"commit": wanted}, headers=read).json()
    assert [r["log_index"] for r in page["records"]] == [0, 2, 3]
    releases = api.get("/v1/evidence", params={"kind": "release"}, headers=read).json()
    assert [r["log_index"] for r in releases["records"]] == [4]
    for bad in ("a,,b", ",".join(["ab"] * 101)):
        refused = api.get("/v1/evidence", params={"commit": bad}, headers=read)
        assert refused.status_code == 422
        assert "comma-separated" in refused.json()["error"]["message"]
    unknown = api.get("/v1/evidence", params={"kinds": "release"}, headers=read)
    assert unknown.status_code == 422
    assert api.get("/v1/evidence", params={"kind": "nightly"}, headers=read).status_code == 422


def test_bad_input_gets_json_errors_never_500(api: ApiClient, tokens: Tokens) -> None:
    """Bad JSON is 400, a non-Statement is 422, an oversize body 413, all as JSON sentences."""
    ingest = bearer(tokens.ingest)
    cases = [
        (b"{not json", 400),
        (b'{"project": "acme/widget", "project": "x", "statement": {}}', 400),
        (b"[1, 2]", 422),
        (json.dumps({"project": PROJECT, "statement": {"_type": "x"}}).encode(), 422),
        (json.dumps({"project": "no slash", "statement": statement(1)}).encode(), 422),
        (json.dumps({"project": PROJECT, "statement": statement(1), "x": 1}).encode(), 422),
        (b"{" + b" " * 70000 + b"}", 413),
    ]
    for body, status in cases:
        response = api.post("/v1/evidence", content=body, headers=ingest)
        assert response.status_code == status, (body[:60], response.text)
        error = response.json()["error"]
        assert error["code"]
        assert error["message"].strip()

    async def _chunks() -> AsyncIterator[bytes]:
        for chunk in (b"{", b" " * 70000, b"}"):
            yield chunk

    chunked = api.post("/v1/evidence", content=_chunks(), headers=ingest)
    assert chunked.status_code == 413
    assert api.get("/v1/log/proof/inclusion?index=5&size=2", headers=ingest).status_code == 404
    bad_proof = api.get("/v1/log/proof/inclusion?index=x&size=2", headers=bearer(tokens.read))
    assert bad_proof.status_code == 422
    assert api.get("/nowhere").json()["error"]["code"] == "not_found"


def test_operations_endpoints(api: ApiClient, tokens: Tokens) -> None:
    """healthz, readyz and metrics answer; responses carry a request id."""
    _post(api, tokens.ingest, 1)
    assert api.get("/healthz").json()["status"] == "ok"
    assert api.get("/readyz").json()["status"] == "ready"
    metrics = api.get("/metrics").text
    assert "gatekeeper_log_size 1.0" in metrics
    assert 'gatekeeper_http_requests_total{method="POST",route="/v1/evidence",status="201"}' in (
        metrics
    )
    response = api.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    note = api.get("/v1/log/checkpoint/note", headers=bearer(tokens.read)).text
    assert note.startswith("gatekeeper.local/log\n1\n")
    assert "\n\u2014 gatekeeper.local/log " in note


def test_openapi_describes_every_route(api: ApiClient) -> None:
    """The OpenAPI document has a description for every operation."""
    document = api.get("/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation.get("description"), f"{method.upper()} {path} has no description"
