"""The witness cosignatures a bundle carries, checked against the witness keys given."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gatekeeper.attest.keys import VerifyingKey
from gatekeeper.errors import VerificationError
from gatekeeper.ledger._bundle_state import BundleState
from gatekeeper.ledger.bundle import WITNESSES_MEMBER
from gatekeeper.ledger.checkpoint import parse_note
from gatekeeper.ledger.cosignature import Cosignature, parse_cosignature, witnessed_by
from gatekeeper.ledger.merkle import verify_consistency

__all__ = ["check_witnesses"]

_HEX64 = re.compile(r"[0-9a-f]{64}")
_FIELDS = {"note", "cosignatures", "consistency"}


def _shape(value: Any) -> tuple[str, list[Cosignature], list[bytes]]:
    if not isinstance(value, dict) or value.keys() != _FIELDS:
        raise VerificationError('expected {"note", "cosignatures", "consistency"}')
    note, lines, hashes = value["note"], value["cosignatures"], value["consistency"]
    if not isinstance(note, str) or not isinstance(lines, list):
        raise VerificationError("the note is not a string or the cosignatures not a list")
    if not isinstance(hashes, list) or not all(
        isinstance(h, str) and _HEX64.fullmatch(h) for h in hashes
    ):
        raise VerificationError("the consistency hashes are not 64 lowercase hex characters each")
    cosignatures = [parse_cosignature(line) for line in lines if isinstance(line, str)]
    if len(cosignatures) != len(lines):
        raise VerificationError("a cosignature is not a string")
    return note, cosignatures, [bytes.fromhex(h) for h in hashes]


def check_witnesses(
    state: BundleState, witness_keys: Mapping[str, VerifyingKey], required: int
) -> tuple[str, ...]:
    """The ids of the witness keys whose cosignature of a checkpoint consistent with the
    bundle's is carried; a failure when fewer than `required` of `witness_keys` cosigned."""
    checkpoint = state.checkpoint
    value = state.read_json(WITNESSES_MEMBER, required=False)
    if value is None or checkpoint is None:
        state.fail(WITNESSES_MEMBER, f"no witness cosignatures; {required} required")
        return ()
    try:
        note, cosignatures, proof = _shape(value)
        origin, size, root = parse_note(note)
        if origin != checkpoint.origin():
            raise VerificationError(f"the witnessed checkpoint is of log {origin!r}")
        verify_consistency(size, checkpoint.size, root, checkpoint.root(), proof)
    except VerificationError as error:
        state.fail(WITNESSES_MEMBER, f"the witnessed checkpoint does not hold: {error}")
        return ()
    found = witnessed_by(note, cosignatures, witness_keys)
    if len(found) < required:
        missing = sorted(key_id[:16] + "..." for key_id in set(witness_keys) - found)
        state.fail(
            WITNESSES_MEMBER,
            f"{len(found)} of the {len(witness_keys)} witness keys cosigned the log at size "
            f"{size} consistent with this bundle, {required} required (none by "
            f"{', '.join(missing)})",
        )
    return tuple(sorted(found))
