"""What the auditor pages show, read from a stored record: plain values, no HTML.

The record's statement is decoded from its DSSE payload; the verdict, rules and facts come from
its predicate, read by the one typed reader (`attest.predicate.read_predicate`, either version);
a record whose predicate is not a verdict shows dashes. `check_receipt` verifies, server-side, the
envelope signature, the signed checkpoint and the record's inclusion proof to it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gatekeeper.attest.keys import VerifyingKey
from gatekeeper.attest.predicate import (
    Confirmation,
    PredicateError,
    RuleRecord,
    VerdictPredicate,
    WaiverRecord,
    read_predicate,
)
from gatekeeper.errors import GatekeeperError
from gatekeeper.ledger.checkpoint import Checkpoint, verify_checkpoint
from gatekeeper.ledger.record_check import InclusionClaim, check_record
from gatekeeper.service.pages.facts import FactSection, fact_sections
from gatekeeper.service.records import RecordOut

CLAUSES: dict[str, str] = {
    "7.1.5": "monitoring and measuring resources",
    "7.5.3": "control of documented information",
    "8.3.4": "design and development controls",
    "8.3.6": "design and development changes",
    "8.5.2": "identification and traceability",
    "8.5.6": "control of changes",
    "8.6": "release of products and services",
    "8.7": "control of nonconforming outputs",
    "9.2": "internal audit",
}
_HTTP_URL = re.compile(r"^https?://[^\s\"'<>]+$")


def safe_url(value: Any) -> str | None:
    """`value` when it is an http(s) URL, else None (never a javascript: or data: link)."""
    return value if isinstance(value, str) and _HTTP_URL.match(value) else None


def clause_title(clause: str | None) -> str:
    """The ISO 9001 clause with its title, e.g. '8.6 release of products and services'."""
    if not clause:
        return ""
    title = CLAUSES.get(clause.split("/")[0].strip())
    return f"{clause} {title}" if title else clause


def _text(value: Any) -> str:
    """A JSON value as one short line."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return f"{value:.4g}"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def statement_of(record: RecordOut) -> dict[str, Any]:
    """The in-toto statement inside the record's envelope ({} when it cannot be read)."""
    try:
        return _dict(json.loads(base64.b64decode(record.envelope.payload, validate=True)))
    except (binascii.Error, ValueError):
        return {}


def predicate_of(statement: Mapping[str, Any]) -> VerdictPredicate | None:
    """The statement's verdict predicate, or None when it holds none (another kind of record)."""
    try:
        return read_predicate(str(statement.get("predicateType")), statement.get("predicate"))
    except PredicateError:
        return None


@dataclass(frozen=True)
class RowView:
    """One line of the records list."""

    id: str
    time: str
    project: str
    ref: str
    commit: str
    verdict: str
    policy: str
    approvers: str
    log_index: int


def row_view(record: RecordOut) -> RowView:
    """The records-list line of `record`."""
    statement = statement_of(record)
    predicate = predicate_of(statement)
    facts: dict[str, Any] = {} if predicate is None else predicate.facts
    subject = _dict(facts.get("subject"))
    digest = _dict(_dict((_list(statement.get("subject")) or [{}])[0]).get("digest"))
    approvers = _list(_dict(facts.get("reviews")).get("approvers"))
    return RowView(
        id=record.id,
        time=record.integrated_at.replace("T", " ")[:19],
        project=record.project,
        ref=_text(subject.get("ref")),
        commit=_text(digest.get("gitCommit") or subject.get("commit"))[:12],
        verdict=_text(None if predicate is None else predicate.verdict),
        policy=_text(None if predicate is None else predicate.policy.name),
        approvers=", ".join(str(name) for name in approvers) or "—",
        log_index=record.log_index,
    )


@dataclass(frozen=True)
class RuleView:
    """One rule of the verdict as the record page shows it."""

    id: str
    title: str
    outcome: str
    actual: str
    expected: str
    message: str
    clause: str


def _rule_view(rule: RuleRecord) -> RuleView:
    return RuleView(
        id=rule.id,
        title=rule.title or rule.id,
        outcome=rule.outcome,
        actual=_text(rule.actual),
        expected=_text(rule.expected),
        message=rule.message,
        clause=clause_title(rule.clause),
    )


@dataclass(frozen=True)
class ProofStatus:
    """The server-side check of a record: envelope signature, checkpoint, inclusion proof."""

    verified: bool
    text: str
    checkpoint_size: int | None = None


def check_receipt(record: RecordOut, keys: Mapping[str, VerifyingKey]) -> ProofStatus:
    """Verifies the record against the checkpoint of its receipt, with the service's keys."""
    receipt = record.receipt
    if receipt is None:
        return ProofStatus(False, "not verified: the log has no signed checkpoint yet")
    checkpoint = Checkpoint(**receipt.checkpoint.model_dump())
    key = keys.get(checkpoint.key_id)
    if key is None:
        return ProofStatus(False, "not verified: the checkpoint's key is not published")
    try:
        verify_checkpoint(checkpoint, key)
        proof = [bytes.fromhex(h) for h in receipt.inclusion_proof.hashes]
        inclusion = InclusionClaim(checkpoint.size, checkpoint.root(), proof)
    except (GatekeeperError, ValueError) as error:
        return ProofStatus(False, f"not verified: {error}")
    checked = check_record(
        record.envelope.model_dump(),
        leaf_hash=record.leaf_hash,
        log_index=record.log_index,
        keys=keys,
        inclusion=inclusion,
    )
    if not checked.ok:
        return ProofStatus(False, f"not verified: {'; '.join(checked.sentences())}")
    return ProofStatus(
        True, f"verified against checkpoint of size {checkpoint.size}", checkpoint.size
    )


@dataclass(frozen=True)
class ClauseRow:
    """Which ISO 9001 clause a piece of this record's evidence serves."""

    clause: str
    evidence: str
    present: bool


@dataclass(frozen=True)
class RecordView:
    """Everything the record page shows."""

    row: RowView
    policy_digest: str
    rules: list[RuleView]
    waivers: list[str]
    sections: list[FactSection]
    missing: list[tuple[str, str]]
    run_url: str | None
    run_actor: str
    subject_url: str | None
    key_ids: list[str]
    leaf_hash: str
    proof: ProofStatus
    clauses: list[ClauseRow]
    statement_json: str
    confirmations: list[str]
    approvers: list[str]
    commit: str
    """The full head commit the record is about (the commit the approvals are for)."""


def _clause_rows(view_rules: list[RuleView], predicate: VerdictPredicate | None) -> list[ClauseRow]:
    facts: dict[str, Any] = {} if predicate is None else predicate.facts
    nonconforming = predicate is not None and (predicate.verdict == "fail" or predicate.waived)
    present = {name for name in ("tests", "coverage", "reviews", "change") if facts.get(name)}
    rows = [
        ("7.1.5", "tool versions and the policy digest", bool(predicate and predicate.tools)),
        ("7.5.3", "DSSE signature, append-only log, inclusion proof", True),
        ("8.3.4", "tests, coverage and review approvals", bool(present & {"tests", "coverage"})),
        ("8.3.6 / 8.5.6", "the change: PR/MR, linked issues, approvals", "change" in present),
        ("8.5.2", "subject: repository, commit, ref; CI run link", bool(facts.get("subject"))),
        ("8.6", "(a) the verdict against the policy; (b) the approvers", bool(view_rules)),
        ("8.7", "failed gate kept as a record; waivers", nonconforming),
        ("9.2", "this page, the query API and the export bundle", True),
    ]
    return [ClauseRow(clause_title(c), evidence, has) for c, evidence, has in rows]


def confirmations(found: Mapping[str, Confirmation] | None) -> list[str]:
    """What the service checked itself, one sentence per fact section, e.g. "reviews:
    confirmed by the service with github at 2026-12-02 12:03 UTC"; "not checked" when the
    statement carries no confirmation (the service had no provider access)."""
    if not found:
        return ["reviews: not checked by the service (no provider access configured)"]
    lines = []
    for section, item in sorted(found.items()):
        line = f"{section}: {item.status}"
        if item.status == "confirmed":
            line += " by the service"
        if item.by is not None:
            line += f" with {item.by}"
        if item.at is not None:
            line += f" at {item.at.replace('T', ' ')[:16]} UTC"
        if item.reason is not None:
            line += f": {item.reason}"
        lines.append(line)
    return lines


_RULE_ORDER = {"fail": 0, "error": 0, "warn": 1, "waived": 2, "pass": 3}
"""The record page lists failing rules first, then warnings, waived rules, passes, the rest."""


def _waiver_line(waiver: WaiverRecord) -> str:
    """A waiver as one line."""
    line = (
        f"{waiver.rule}: {waiver.status}, approved by {waiver.approved_by} "
        f"until {waiver.expires.isoformat()}"
    )
    extra = ", ".join(part for part in (waiver.reason, waiver.ticket) if part)
    return f"{line} ({extra})" if extra else line


def record_view(record: RecordOut, keys: Mapping[str, VerifyingKey]) -> RecordView:
    """The record page of `record`."""
    statement = statement_of(record)
    predicate = predicate_of(statement)
    facts: dict[str, Any] = {} if predicate is None else predicate.facts
    ci: dict[str, Any] = {} if predicate is None else predicate.run
    rules = () if predicate is None else predicate.rules
    view_rules = sorted(
        (_rule_view(rule) for rule in rules), key=lambda rule: _RULE_ORDER.get(rule.outcome, 4)
    )
    return RecordView(
        row=row_view(record),
        policy_digest=_text(None if predicate is None else predicate.policy.digest),
        rules=view_rules,
        waivers=[] if predicate is None else [_waiver_line(w) for w in predicate.waivers],
        sections=fact_sections(facts),
        missing=sorted((str(k), _text(v)) for k, v in _dict(facts.get("missing")).items()),
        run_url=safe_url(ci.get("run_url")),
        run_actor=_text(ci.get("actor")),
        subject_url=safe_url(_dict(facts.get("subject")).get("url")),
        key_ids=[signature.keyid for signature in record.envelope.signatures],
        leaf_hash=record.leaf_hash,
        proof=check_receipt(record, keys),
        clauses=_clause_rows(view_rules, predicate),
        statement_json=json.dumps(statement, indent=2, ensure_ascii=False, sort_keys=True),
        confirmations=confirmations(None if predicate is None else predicate.confirmed),
        approvers=[_text(name) for name in _list(_dict(facts.get("reviews")).get("approvers"))],
        commit=_full_commit(statement, facts),
    )


def _full_commit(statement: dict[str, Any], facts: dict[str, Any]) -> str:
    digest = _dict(_dict((_list(statement.get("subject")) or [{}])[0]).get("digest"))
    return _text(digest.get("gitCommit") or _dict(facts.get("subject")).get("commit"))
