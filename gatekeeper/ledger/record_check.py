"""The one check of a stored record: its DSSE envelope against the keys, no signature by a key the
log had retired before the record, the envelope against its leaf hash, and the leaf's inclusion
proof against a checkpoint root.

The bundle verifier, the record page, the demo and the client's receipt check all call
`check_record`, so a tampered record is refused everywhere with the same sentence. Checking the
checkpoint's own signature is the caller's (once per checkpoint, not once per record).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from gatekeeper.attest.canonical import (
    CanonicalJSONError,
    canonical_json,
    canonical_json_of_strings,
)
from gatekeeper.attest.dsse import envelope_json_parts, verify_envelope_json
from gatekeeper.attest.keys import VerifyingKey
from gatekeeper.attest.statement import Statement, StatementError, parse_statement
from gatekeeper.errors import VerificationError
from gatekeeper.ledger.key_chain import KeyPeriods
from gatekeeper.ledger.merkle_hash import leaf_hash as _leaf_hash
from gatekeeper.ledger.merkle_verify import verify_inclusion

__all__ = ["LEAF_MISMATCH", "InclusionClaim", "Problem", "RecordCheck", "check_record"]

LEAF_MISMATCH = "leaf_hash is not the hash of the envelope"

Part = Literal["envelope", "key", "leaf", "proof"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a record: which part (`envelope`, `key`, `leaf`, `proof`) and why."""

    part: Part
    sentence: str


@dataclass(frozen=True)
class InclusionClaim:
    """An inclusion proof of the record's leaf to a tree whose root the caller trusts."""

    size: int
    root: bytes
    hashes: Sequence[bytes]


@dataclass(frozen=True)
class RecordCheck:
    """What `check_record` found: the problems (none: the record verifies), the statement the
    envelope carries when its signature verified, and the canonical envelope bytes and leaf."""

    problems: tuple[Problem, ...]
    statement: Statement | None
    encoded: bytes | None
    leaf: bytes | None

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    def sentences(self) -> list[str]:
        """Each problem as one sentence."""
        return [problem.sentence for problem in self.problems]


def _encode(envelope: Any) -> bytes:
    """RFC 8785 bytes of the envelope; a fast path for the all-strings shape the service stores."""
    try:
        envelope_json_parts(envelope)
    except VerificationError:
        return canonical_json(envelope)
    return canonical_json_of_strings(envelope)


def _period_problems(
    envelope: Any, keys: Mapping[str, VerifyingKey], log_index: int, periods: KeyPeriods | None
) -> list[Problem]:
    """A signature (already verified) by a key the log had retired before this record."""
    if periods is None:
        return []
    signers = dict.fromkeys(keyid for keyid, _sig in envelope_json_parts(envelope)[2])
    found = (periods.record_problem(keyid, log_index) for keyid in signers if keyid in keys)
    return [Problem("key", sentence) for sentence in found if sentence is not None]


def check_record(
    envelope: Any,
    *,
    leaf_hash: str,
    log_index: int,
    keys: Mapping[str, VerifyingKey] | None,
    inclusion: InclusionClaim | None = None,
    periods: KeyPeriods | None = None,
) -> RecordCheck:
    """Check a record's envelope signature (unless `keys` is None: the caller holds no keys),
    that no signing key was retired before `log_index` (when `periods` is given), its stated
    `leaf_hash` (hex) and, when given, its inclusion proof."""
    problems: list[Problem] = []
    statement: Statement | None = None
    if keys is not None:
        try:
            statement = parse_statement(verify_envelope_json(envelope, keys))
        except (VerificationError, StatementError) as error:
            problems.append(Problem("envelope", f"envelope: {error}"))
        else:
            problems.extend(_period_problems(envelope, keys, log_index, periods))
    try:
        encoded = _encode(envelope)
    except CanonicalJSONError as error:
        problems.append(Problem("envelope", f"envelope: {error}"))
        return RecordCheck(tuple(problems), statement, None, None)
    leaf = _leaf_hash(encoded)
    if leaf.hex() != leaf_hash:
        problems.append(Problem("leaf", LEAF_MISMATCH))
    if inclusion is not None:
        try:
            verify_inclusion(leaf, log_index, inclusion.size, inclusion.hashes, inclusion.root)
        except VerificationError as error:
            problems.append(Problem("proof", f"inclusion proof: {error}"))
    return RecordCheck(tuple(problems), statement, encoded, leaf)
