"""What the workspace filters on, read once from a record's statement at ingest.

Every value comes from a statement a submitter sent: each is type-checked and cut to its column's
length, and a statement that is not a Gatekeeper verdict still gets a row (kind "other")."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from gatekeeper.attest.predicate import PredicateError, WaiverRecord, read_predicate

__all__ = ["FACET_COLUMNS", "Facets", "facets_from_envelope", "facets_from_statement", "rule_list"]

_PR_EVENTS = frozenset(
    {"pull_request", "pull_request_target", "merge_request", "merge_request_event"}
)


@dataclass(frozen=True)
class Facets:
    """The filterable facts of one record (columns of `record_facets`)."""

    kind: str = "other"
    change_id: str | None = None
    author: str | None = None
    policy_name: str | None = None
    policy_digest: str | None = None
    policy_version: str | None = None
    waived: int = 0
    failed_rules: str = ""
    waived_rules: str = ""
    line_rate: float | None = None
    tests_total: int | None = None
    tests_failed: int | None = None
    tests_flaky: int | None = None
    evaluated_at: str | None = None
    approvers: str = ""
    waivers: str = "[]"

    def columns(self) -> dict[str, Any]:
        """The row values, by column name."""
        return asdict(self)


FACET_COLUMNS = tuple(Facets.__dataclass_fields__)
"""The columns of `record_facets` a statement fills (the rest are copied from the record)."""


def rule_list(ids: list[str] | tuple[str, ...]) -> str:
    """Rule ids as stored: space-separated, a space at each end, so `LIKE '% id %'` finds one."""
    clean = sorted({i[:100] for i in ids if i and " " not in i})
    return f" {' '.join(clean)} " if clean else ""


def _text(value: Any, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _rate(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if 0.0 <= number <= 1.0 else None


def _section(facts: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = facts.get(name)
    return value if isinstance(value, Mapping) else {}


def _kind(facts: Mapping[str, Any], run: Mapping[str, Any], ref: str | None) -> str:
    event = run.get("event")
    if "release" in facts or (ref or "").startswith("refs/tags/") or event == "release":
        return "release"
    if event in _PR_EVENTS or _section(facts, "subject").get("number") is not None:
        return "pr"
    if event == "push" or (ref or "").startswith("refs/heads/"):
        return "push"
    return "other"


def _waivers(waivers: tuple[WaiverRecord, ...]) -> str:
    return json.dumps([w.model_dump(mode="json") for w in waivers][:50], sort_keys=True)


def facets_from_statement(statement: Any) -> Facets:
    """The facets of a statement (a parsed in-toto Statement as a JSON object)."""
    if not isinstance(statement, Mapping):
        return Facets()
    predicate_type = statement.get("predicateType")
    try:
        predicate = read_predicate(str(predicate_type), statement.get("predicate"))
    except PredicateError:
        return Facets()
    facts = predicate.facts
    subject = _section(facts, "subject")
    tests = _section(facts, "tests")
    coverage = _section(facts, "coverage")
    reviews = _section(facts, "reviews")
    change = _section(facts, "change")
    number = subject.get("number")
    change_id = str(number)[:32] if _int(number) is not None or _text(number, 32) else None
    approvers = reviews.get("approvers")
    approver_names = [
        str(a.get("login") if isinstance(a, Mapping) else a)[:100]
        for a in (approvers if isinstance(approvers, list) else [])
        if isinstance(a, str | Mapping)
    ]
    evaluated = predicate.evaluated_at
    return Facets(
        kind=_kind(facts, predicate.run, _text(subject.get("ref"), 300)),
        change_id=change_id,
        author=_text(change.get("author"), 200),
        policy_name=predicate.policy.name[:200],
        policy_digest=predicate.policy.digest[:64],
        policy_version=(predicate.policy.version or "")[:64] or None,
        waived=int(predicate.waived),
        failed_rules=rule_list([r.id for r in predicate.rules if r.outcome in ("fail", "error")]),
        waived_rules=rule_list(list(predicate.waived_rules())),
        line_rate=_rate(coverage.get("line_rate")),
        tests_total=_int(tests.get("total")),
        tests_failed=_int(tests.get("failed")),
        tests_flaky=_int(tests.get("flaky")),
        evaluated_at=None if evaluated is None else evaluated.isoformat()[:32],
        approvers=" ".join(sorted(set(approver_names)))[:2000],
        waivers=_waivers(predicate.waivers),
    )


def facets_from_envelope(envelope: bytes) -> Facets:
    """The facets of a stored record (its DSSE envelope bytes)."""
    try:
        payload = json.loads(envelope)["payload"]
        statement = json.loads(base64.b64decode(payload, validate=True))
    except (ValueError, KeyError, TypeError, binascii.Error):
        return Facets()
    return facets_from_statement(statement)
