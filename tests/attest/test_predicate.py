"""The typed verdict predicate: built in one place, read in one place, v1 records still read."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from connectors.evidence import build_verdict_statement
from gatekeeper.attest.predicate import (
    PREDICATE_TYPE,
    PREDICATE_TYPE_V1,
    Confirmation,
    PredicateError,
    Submitter,
    build_predicate,
    carried_policy,
    policy_digest,
    predicate_json_schema,
    read_predicate,
    shipped_json_schema,
    with_service_parts,
)
from gatekeeper.facts import Coverage
from tests.policy._helpers import facts, policy_of, run

COMMIT = "0123456789abcdef0123456789abcdef01234567"
RULE = """
- id: line-coverage
  title: Line coverage
  metric: coverage.line_rate
  op: ">="
  threshold: 0.9
"""
WAIVER = """
waivers:
  - rule: line-coverage
    reason: legacy module
    approved_by: qa-lead
    expires: 2026-12-31
    ticket: QA-12
"""
LOW = Coverage(lines_valid=100, lines_covered=75, line_rate=0.75)


def _waived_statement(tmp_path: Path) -> dict[str, object]:
    verdict = run(policy_of(tmp_path, RULE, WAIVER), facts(coverage=LOW))
    facts_json = facts(coverage=LOW).to_json_dict()
    facts_json["subject"] = {"repo": "acme/shop", "commit": COMMIT}
    return build_verdict_statement(verdict.to_json_dict(), facts_json, {"provider": "github"})


def test_the_shipped_schema_is_the_generated_one() -> None:
    """gatekeeper/data/schemas/verdict-predicate-v2.schema.json equals the model's schema."""
    assert shipped_json_schema() == predicate_json_schema()
    assert shipped_json_schema()["$id"] == PREDICATE_TYPE


def test_a_built_predicate_validates_against_the_schema_and_reads_back(tmp_path: Path) -> None:
    """The statement names the v2 type; its predicate is valid per the schema and round-trips."""
    statement = _waived_statement(tmp_path)
    assert statement["predicateType"] == PREDICATE_TYPE
    predicate = statement["predicate"]
    jsonschema.Draft202012Validator(predicate_json_schema()).validate(predicate)
    read = read_predicate(PREDICATE_TYPE, predicate)
    assert read.to_json_dict() == predicate
    assert read.evaluated_at is not None
    assert read.run == {"provider": "github"}


def test_waivers_used_in_the_evaluation_are_structured(tmp_path: Path) -> None:
    """Each waiver carries rule, reason, approver, expiry, ticket and what became of it."""
    read = read_predicate(PREDICATE_TYPE, _waived_statement(tmp_path)["predicate"])
    (waiver,) = read.waivers
    assert (waiver.rule, waiver.reason, waiver.approved_by, waiver.ticket, waiver.status) == (
        "line-coverage",
        "legacy module",
        "qa-lead",
        "QA-12",
        "applied",
    )
    assert waiver.expires.isoformat() == "2026-12-31"
    assert read.waived
    assert read.waived_rules() == ("line-coverage",)


def test_a_stored_v1_predicate_is_still_read() -> None:
    """A v1 record (verdict string, policy, rules, ci, confirmed) maps onto the same model."""
    v1 = {
        "verdict": "pass",
        "policy": {"name": "default", "digest": "sha256:" + "a" * 64},
        "rules": [{"id": "tests", "title": "Tests", "outcome": "pass", "message": "all green"}],
        "facts": {"subject": {"repo": "acme/shop", "commit": COMMIT}},
        "ci": {"provider": "gitlab"},
        "tools": {"gatekeeper": "0.1"},
        "confirmed": {"reviews": {"status": "not checked"}},
    }
    read = read_predicate(PREDICATE_TYPE_V1, v1)
    assert read.verdict == "pass"
    assert read.run == {"provider": "gitlab"}
    assert read.evaluated_at is None
    assert read.confirmed is not None
    assert read.confirmed["reviews"].status == "not checked"
    assert not read.waived
    older = {key: value for key, value in v1.items() if key != "confirmed"}
    assert read_predicate(PREDICATE_TYPE_V1, older).confirmed is None


def test_a_v2_predicate_without_evaluation_time_is_refused(tmp_path: Path) -> None:
    """v2 requires evaluated_at; the refusal is one sentence naming the field."""
    predicate = dict(_waived_statement(tmp_path)["predicate"])  # type: ignore[call-overload]
    del predicate["evaluated_at"]
    with pytest.raises(PredicateError, match="evaluated_at"):
        read_predicate(PREDICATE_TYPE, predicate)


@pytest.mark.parametrize(
    ("predicate_type", "value", "says"),
    [
        (PREDICATE_TYPE, [], "not an object"),
        (PREDICATE_TYPE, {"verdict": "maybe", "policy": {}}, "verdict"),
        ("https://example.com/other/v1", {}, "is not"),
    ],
)
def test_what_is_not_a_verdict_predicate_is_refused_with_a_sentence(
    predicate_type: str, value: object, says: str
) -> None:
    """Wrong shapes and unknown types give PredicateError naming the problem."""
    with pytest.raises(PredicateError, match=says):
        read_predicate(predicate_type, value)


def test_unknown_fields_are_refused(tmp_path: Path) -> None:
    """The model is strict: a field it does not know is refused, never silently kept."""
    predicate = dict(_waived_statement(tmp_path)["predicate"])  # type: ignore[call-overload]
    predicate["extra"] = 1
    with pytest.raises(PredicateError, match="extra"):
        read_predicate(PREDICATE_TYPE, predicate)


def test_a_minimal_predicate_is_built() -> None:
    """Verdict, policy and evaluation time suffice; the rest defaults to empty."""
    verdict = {
        "verdict": "pass",
        "policy": {"name": "p", "digest": "d"},
        "evaluated_at": "2026-06-01T00:00:00Z",
    }
    built = build_predicate(verdict, {}, {}, {}).to_json_dict()
    assert json.loads(json.dumps(built))["evaluated_at"] == "2026-06-01T00:00:00Z"


def test_a_carried_policy_has_the_canonical_digest_beside_the_file_digest(tmp_path: Path) -> None:
    """`carried_policy` puts the document in, its digest = SHA-256 of its canonical JSON, and
    keeps the file's byte digest beside it; the read predicate says it is recomputable."""
    verdict = run(policy_of(tmp_path, RULE, WAIVER), facts(coverage=LOW)).to_json_dict()
    document = {"version": 1, "name": "t", "rules": [{"id": "r", "expr": "true"}]}
    carried = carried_policy(verdict, document)
    assert carried["policy"]["file_digest"] == verdict["policy"]["digest"]
    assert carried["policy"]["digest"] == policy_digest(document)
    predicate = build_predicate(carried, {"subject": {"ref": "refs/heads/main"}}, {}, {})
    assert predicate.recomputable
    assert predicate.policy.digest_follows
    assert predicate.rule_outcomes() == (("line-coverage", "waived"),)
    assert predicate.subject_text("ref") == "refs/heads/main"
    assert predicate.subject_text("commit") is None
    plain = build_predicate(verdict, {"subject": "not an object"}, {}, {})
    assert not plain.recomputable
    assert not plain.policy.digest_follows
    assert plain.subject_text("ref") is None
    assert carried_policy({"verdict": "pass"}, document)["policy"]["file_digest"] is None


@pytest.mark.parametrize("predicate_type", [PREDICATE_TYPE, PREDICATE_TYPE_V1])
def test_a_submitter_the_service_wrote_flat_is_read_in_the_model_shape(predicate_type: str) -> None:
    """A submitter of the flat shape earlier services signed (claims beside `kind`, a token's
    `name`) reads as the model's `claims` / `token_name`; the model's own shape as it is."""
    base = {
        "verdict": "pass",
        "policy": {"name": "p", "digest": "ab" * 32},
        "evaluated_at": "2026-12-03T10:00:00Z",
    }
    flat = {"kind": "oidc", "issuer": "https://ci.example", "subject": "s", "actor": "octo"}
    oidc = read_predicate(predicate_type, {**base, "submitter": flat}).submitter
    assert oidc == Submitter(
        kind="oidc", issuer="https://ci.example", claims={"subject": "s", "actor": "octo"}
    )
    named = {"kind": "token", "token_id": "t1", "name": "ci"}
    token = read_predicate(predicate_type, {**base, "submitter": named}).submitter
    assert token == Submitter(kind="token", token_id="t1", token_name="ci")
    for kept in ({"kind": "token", "token_id": "t1"}, {"kind": "token", "token_name": "x"}):
        assert read_predicate(predicate_type, {**base, "submitter": kept}).submitter == Submitter(
            **kept
        )
    with pytest.raises(PredicateError, match="submitter"):
        read_predicate(predicate_type, {**base, "submitter": {"kind": "other", "x": 1}})
    assert read_predicate(predicate_type, {**base, "submitter": None}).submitter is None


def test_the_service_parts_replace_what_the_sender_wrote() -> None:
    """`with_service_parts` sets submitter and confirmed in the model's shape, replacing a
    sender's value, and leaves them alone when not given; a missing predicate becomes one."""
    sent = {"_type": "t", "predicate": {"verdict": "pass", "submitter": {"kind": "forged"}}}
    who = Submitter(kind="token", token_id="t1")
    seen = {"reviews": Confirmation(status="not checked", reason="no access")}
    stamped = with_service_parts(sent, submitter=who, confirmed=seen)
    assert stamped["predicate"] == {
        "verdict": "pass",
        "submitter": {"kind": "token", "token_id": "t1"},
        "confirmed": {"reviews": {"status": "not checked", "reason": "no access"}},
    }
    assert with_service_parts(sent) == sent
    assert with_service_parts({"_type": "t"}, submitter=who)["predicate"] == {
        "submitter": {"kind": "token", "token_id": "t1"}
    }
