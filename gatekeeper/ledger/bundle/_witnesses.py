"""The witness cosignatures a bundle carries, checked against the witness keys given."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gatekeeper.attest.keys import VerifyingKey
from gatekeeper.errors import VerificationError
from gatekeeper.ledger.bundle._state import BundleState
from gatekeeper.ledger.bundle.writer import WITNESSES_MEMBER
from gatekeeper.ledger.cosignature import Cosignature, parse_cosignature, witnessed_by

__all__ = ["check_witnesses"]

_FIELDS = {"size", "cosignatures"}


def _cosignatures(value: Any) -> tuple[Any, list[Cosignature]]:
    if not isinstance(value, dict) or value.keys() != _FIELDS:
        raise VerificationError('expected {"size", "cosignatures"}')
    lines = value["cosignatures"]
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        raise VerificationError("the cosignatures are not a list of signature lines")
    return value["size"], [parse_cosignature(line) for line in lines]


def check_witnesses(
    state: BundleState, witness_keys: Mapping[str, VerifyingKey], required: int
) -> tuple[str, ...]:
    """The ids of the witness keys that cosigned the bundle's checkpoint; a failure when
    fewer than `required` of `witness_keys` did (a log rebuilt after a witness saw it has
    checkpoints no witness cosigns)."""
    checkpoint = state.checkpoint
    if checkpoint is None:  # already a failure of checkpoint.json
        return ()
    value = state.read_json(WITNESSES_MEMBER, required=False)
    cosignatures: list[Cosignature] = []
    if value is not None:
        try:
            size, cosignatures = _cosignatures(value)
        except VerificationError as error:
            state.fail(WITNESSES_MEMBER, str(error))
            return ()
        if size != checkpoint.size:
            state.fail(WITNESSES_MEMBER, f"the cosignatures are of size {size}, not the bundle's")
            return ()
    found = witnessed_by(checkpoint.note, cosignatures, witness_keys)
    if len(found) < required:
        missing = sorted(key_id[:16] + "..." for key_id in set(witness_keys) - found)
        state.fail(
            WITNESSES_MEMBER,
            f"{len(found)} of the {len(witness_keys)} witness keys cosigned the bundle's "
            f"checkpoint (size {checkpoint.size}), {required} required; not cosigned by "
            f"{', '.join(missing)} (export with witnessed=true for the newest cosigned one)",
        )
    return tuple(sorted(found))
