"""What the pages show, computed from records: verification failures, safe links, shapes."""

from __future__ import annotations

import base64
import json

from gatekeeper.attest.keys import VerifyingKey
from gatekeeper.attest.predicate import Confirmation
from gatekeeper.service.pages.facts import issue_link
from gatekeeper.service.pages.views import check_receipt, record_view, row_view, safe_url
from gatekeeper.service.records import RecordOut
from tests.pages.conftest import Stored, Tokens, bearer, session
from tests.service.live import ApiClient, statement


def _record(client: ApiClient, token: str, record_id: str) -> RecordOut:
    response = client.get(f"/ui/records/{record_id}/json", headers=session(client, token))
    return RecordOut.model_validate(response.json())


def _keys(client: ApiClient) -> dict[str, VerifyingKey]:
    keys = client.get("/v1/keys").json()["keys"]
    return {key["key_id"]: VerifyingKey.from_public_pem(key["public_key_pem"]) for key in keys}


def test_a_stored_record_verifies(client: ApiClient, tokens: Tokens, stored: Stored) -> None:
    """A record as stored verifies against the newest checkpoint with the published keys."""
    status = check_receipt(_record(client, tokens.read, stored.failing), _keys(client))
    assert status.verified
    assert status.checkpoint_size == 3


def test_altered_records_do_not_verify(client: ApiClient, tokens: Tokens, stored: Stored) -> None:
    """A changed payload, leaf hash, proof or unknown key is shown as not verified."""
    record = _record(client, tokens.read, stored.failing)
    keys = _keys(client)
    assert record.receipt is not None
    forged_payload = base64.b64encode(b'{"forged": true}').decode()
    envelope = record.envelope.model_copy(update={"payload": forged_payload})
    proof = record.receipt.inclusion_proof.model_copy(update={"hashes": ["00" * 32] * 2})
    cases = {
        "signature": record.model_copy(update={"envelope": envelope}),
        "leaf hash": record.model_copy(update={"leaf_hash": "11" * 32}),
        "inclusion": record.model_copy(
            update={"receipt": record.receipt.model_copy(update={"inclusion_proof": proof})}
        ),
        "empty log": record.model_copy(update={"receipt": None}),
    }
    for name, altered in cases.items():
        status = check_receipt(altered, keys)
        assert not status.verified, name
        assert status.text.startswith("not verified"), name
    assert not check_receipt(record, {}).verified


def test_only_http_links_are_made() -> None:
    """javascript:, data: and relative values never become links; #N links beside the PR/MR."""
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("data:text/html,x") is None
    assert safe_url("https://ci.example/run/1") == "https://ci.example/run/1"
    assert issue_link("#4", "https://gh.example/o/r/pull/9") == "https://gh.example/o/r/issues/4"
    assert issue_link("#4", "https://gl.example/g/r/-/merge_requests/9") == (
        "https://gl.example/g/r/-/issues/4"
    )
    assert issue_link("QA-12", "https://gh.example/o/r/pull/9") is None
    assert issue_link("#4", None) is None


def test_nested_verdict_shape_and_hostile_urls(client: ApiClient, tokens: Tokens) -> None:
    """A statement with a nested verdict object and javascript: URLs shows its verdict, no link."""
    body = statement(5, verdict="fail")
    body["predicate"]["run"] = {"run_url": "javascript:alert(1)", "actor": "eve"}
    body["predicate"]["facts"]["subject"]["url"] = "javascript:alert(2)"
    response = client.post(
        "/v1/evidence",
        json={"project": "acme/widget", "statement": body},
        headers=bearer(tokens.ingest),
    )
    record = RecordOut.model_validate(response.json())
    view = record_view(record, _keys(client))
    assert view.row.verdict == "fail"
    assert view.row.policy == "p"
    assert view.run_url is None
    assert view.subject_url is None
    assert json.loads(view.statement_json)["predicate"]["n"] == 5
    assert row_view(record).approvers == "—"


def test_the_record_page_says_what_the_service_confirmed() -> None:
    """The service's own review check reads as a sentence; without one, "not checked"."""
    from gatekeeper.service.pages.views import confirmations

    confirmed = {
        "reviews": Confirmation(status="confirmed", by="github", at="2026-12-02T12:03:09.1Z")
    }
    assert confirmations(confirmed) == [
        "reviews: confirmed by the service with github at 2026-12-02 12:03 UTC"
    ]
    unreachable = {
        "reviews": Confirmation(status="not confirmed", by="gitlab", reason="provider unreachable")
    }
    assert confirmations(unreachable) == [
        "reviews: not confirmed with gitlab: provider unreachable"
    ]
    assert confirmations(None)[0].startswith("reviews: not checked")


def _with_rules(record: RecordOut, verdict: str, outcomes: list[str]) -> RecordOut:
    """`record` whose payload carries rules with these outcomes and no structured waivers."""
    statement_body = json.loads(base64.b64decode(record.envelope.payload))
    predicate = statement_body["predicate"]
    predicate.pop("waivers", None)
    holder = predicate["verdict"] if isinstance(predicate.get("verdict"), dict) else predicate
    holder["verdict"] = verdict
    holder["rules"] = [
        {"id": f"rule-{n}", "title": f"Rule {n}", "outcome": outcome, "message": outcome}
        for n, outcome in enumerate(outcomes)
    ]
    payload = base64.b64encode(json.dumps(statement_body).encode()).decode()
    return record.model_copy(
        update={"envelope": record.envelope.model_copy(update={"payload": payload})}
    )


def test_failing_rules_come_first_and_a_waived_rule_answers_8_7(
    client: ApiClient, tokens: Tokens, stored: Stored
) -> None:
    """The record page lists failed rules before the rest, and a record that passed through a
    waiver says YES for clause 8.7 (concessions) even without a structured waiver list."""
    record = _record(client, tokens.read, stored.passing[0])
    keys = _keys(client)
    mixed = record_view(_with_rules(record, "fail", ["pass", "waived", "fail", "warn"]), keys)
    assert [rule.outcome for rule in mixed.rules] == ["fail", "warn", "waived", "pass"]
    waived = record_view(_with_rules(record, "pass", ["pass", "waived"]), keys)
    concessions = next(row for row in waived.clauses if row.clause.startswith("8.7"))
    assert concessions.present
    clean = record_view(_with_rules(record, "pass", ["pass", "pass"]), keys)
    assert not next(row for row in clean.clauses if row.clause.startswith("8.7")).present
