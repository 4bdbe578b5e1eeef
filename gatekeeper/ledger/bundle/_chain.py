"""The key transitions a bundle carries: the chain from the pinned keys, and their log places."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gatekeeper.attest.canonical import CanonicalJSONError, strict_json_loads
from gatekeeper.errors import VerificationError
from gatekeeper.ledger.bundle._state import BundleState
from gatekeeper.ledger.bundle.writer import CHECKPOINT_MEMBER, RECORD_FIELDS, TRANSITIONS_MEMBER
from gatekeeper.ledger.key_chain import KeyPeriods, follow_chain
from gatekeeper.ledger.record_check import InclusionClaim, check_record

__all__ = [
    "Transition",
    "check_key_periods",
    "check_transition_proofs",
    "follow_bundle_chain",
    "load_transitions",
]

_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Transition:
    """One line of transitions.jsonl: its line number, the record and its inclusion proof."""

    number: int
    record: dict[str, Any]
    proof: dict[str, Any]

    def where(self) -> str:
        return f"transition {self.number} (log index {self.record['log_index']})"


def _entry(number: int, line: bytes) -> Transition:
    try:
        value = strict_json_loads(line)
    except CanonicalJSONError as error:
        raise VerificationError(str(error)) from error
    if not isinstance(value, dict) or value.keys() != {"record", "proof"}:
        raise VerificationError('the line is not {"record", "proof"}')
    record, proof = value["record"], value["proof"]
    if not isinstance(record, dict) or record.keys() != RECORD_FIELDS:
        raise VerificationError("the record is not of the API's record shape")
    index = record["log_index"]
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise VerificationError("the record's log_index is not a non-negative integer")
    if not isinstance(proof, dict) or proof.keys() != {"index", "size", "hashes"}:
        raise VerificationError('the proof is not {"index", "size", "hashes"}')
    return Transition(number, record, proof)


def load_transitions(state: BundleState) -> list[Transition]:
    """The readable lines of transitions.jsonl in log order; every other line is a failure."""
    data = state.read(TRANSITIONS_MEMBER, required=False)
    entries: list[Transition] = []
    for number, line in enumerate((data or b"").splitlines(), start=1):
        try:
            entry = _entry(number, line)
        except VerificationError as error:
            state.fail(TRANSITIONS_MEMBER, f"transition {number}: {error}")
            continue
        if entries and entry.record["log_index"] <= entries[-1].record["log_index"]:
            state.fail(TRANSITIONS_MEMBER, f"{entry.where()}: not in log order")
            continue
        entries.append(entry)
    return entries


def follow_bundle_chain(state: BundleState, entries: list[Transition]) -> KeyPeriods:
    """Trust the keys the transitions reach from the pinned keys (or, unpinned, the bundle's
    own); every transition not signed by a key already reached is a failure."""
    chain = follow_chain(state.envelope_keys, (entry.record["envelope"] for entry in entries))
    refused = {position for position, _sentence in chain.refused}
    for position, sentence in chain.refused:
        state.fail(TRANSITIONS_MEMBER, f"{entries[position - 1].where()}: {sentence}")
    state.envelope_keys = dict(chain.keys)
    state.trusted.update(chain.keys)
    followed = [e for n, e in enumerate(entries, start=1) if n not in refused]
    periods = KeyPeriods({}, {}, len(chain.transitions))
    for entry, transition in zip(followed, chain.transitions, strict=True):
        periods.retired[transition.previous_key_id] = entry.record["log_index"]
        periods.started[transition.key_id] = entry.record["log_index"]
    return periods


def check_key_periods(state: BundleState, periods: KeyPeriods) -> None:
    """The bundle's checkpoint is signed by the key current at its size, not by one the log
    had already retired (a retired key, even if stolen later, signs nothing new)."""
    if state.checkpoint is None:
        return
    problem = periods.problem(state.checkpoint)
    if problem is not None:
        state.fail(CHECKPOINT_MEMBER, problem)


def _check_one(entry: Transition, size: int, root: bytes) -> None:
    if entry.record["log_index"] >= size:
        # appended after the bundle's checkpoint (the manifest's key came later): not in the
        # tree this bundle proves, so it stands on its signatures alone
        return
    proof = entry.proof
    hashes = proof["hashes"]
    if not isinstance(hashes, list) or not all(
        isinstance(h, str) and _HEX64.fullmatch(h) for h in hashes
    ):
        raise VerificationError("the proof hashes are not 64 lowercase hex characters each")
    if proof["index"] != entry.record["log_index"] or proof["size"] != size:
        raise VerificationError(f"the proof is not for this record in the tree of size {size}")
    checked = check_record(  # the signatures are follow_bundle_chain's
        entry.record["envelope"],
        leaf_hash=entry.record["leaf_hash"],
        log_index=entry.record["log_index"],
        keys=None,
        inclusion=InclusionClaim(size, root, [bytes.fromhex(h) for h in hashes]),
    )
    if not checked.ok:
        raise VerificationError("; ".join(checked.sentences()))


def check_transition_proofs(state: BundleState, entries: list[Transition]) -> None:
    """Each transition the bundle's tree covers is in it (leaf and inclusion proof)."""
    if state.checkpoint is None or state.root is None:
        return
    for entry in entries:
        try:
            _check_one(entry, state.checkpoint.size, state.root)
        except VerificationError as error:
            state.fail(TRANSITIONS_MEMBER, f"{entry.where()}: {error}")
