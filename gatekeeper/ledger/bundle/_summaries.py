"""The check of a bundle's `vsa.jsonl`: each VSA is signed by a trusted key and agrees with
the record it summarises (the record's envelope digest, id and gate result)."""

from __future__ import annotations

from typing import Any

from gatekeeper.attest.canonical import CanonicalJSONError
from gatekeeper.attest.dsse import verify_envelope_json
from gatekeeper.attest.statement import StatementError, parse_statement
from gatekeeper.attest.vsa import VSA_PREDICATE_TYPE, read_vsa
from gatekeeper.errors import VerificationError
from gatekeeper.ledger.bundle._records import lines_of
from gatekeeper.ledger.bundle._state import BundleState, RecordSummary, bounded_json
from gatekeeper.ledger.bundle.writer import SUMMARIES_MEMBER

__all__ = ["check_summaries"]

_FIELDS = frozenset({"log_index", "record_id", "envelope"})


def _problem(predicate: dict[str, Any], record: RecordSummary) -> str | None:
    """Why a VSA predicate does not summarise `record`, or None."""
    claim = read_vsa(predicate)
    if claim.input_digests != (record.envelope_sha256,):
        return "its inputAttestations do not name the record's envelope (SHA-256)"
    if claim.result != record.result:
        gate = record.result or "holds no verdict"
        return f"it says {claim.result!r}, the record's gate {gate}"
    return None


def _check_line(state: BundleState, number: int, line: bytes, seen: set[int]) -> None:
    where: dict[str, Any] = {}
    try:
        value = bounded_json(line)
        if not isinstance(value, dict) or value.keys() != _FIELDS:
            raise VerificationError('the line is not {"log_index", "record_id", "envelope"}')
        index = value["log_index"]
        record = state.summaries.get(index) if isinstance(index, int) else None
        if record is None or record.record_id != value["record_id"]:
            raise VerificationError("it names no record of this bundle")
        if index in seen:
            raise VerificationError("a second VSA for the same record")
        seen.add(index)
        where.update(record_id=record.record_id, log_index=index)
        statement = parse_statement(verify_envelope_json(value["envelope"], state.trusted))
        if statement.predicateType != VSA_PREDICATE_TYPE:
            raise VerificationError(f"its predicateType is not {VSA_PREDICATE_TYPE}")
        problem = _problem(statement.predicate, record)
        if problem is not None:
            raise VerificationError(problem)
    except (CanonicalJSONError, VerificationError, StatementError) as error:
        state.fail(SUMMARIES_MEMBER, f"line {number}: {error}", **where)


def check_summaries(state: BundleState) -> None:
    """Check every line of vsa.jsonl when the bundle holds one (bundles before it do not)."""
    if SUMMARIES_MEMBER not in state.archive.namelist():
        return
    seen: set[int] = set()
    for number, line in enumerate(lines_of(state, SUMMARIES_MEMBER), start=1):
        _check_line(state, number, line, seen)
