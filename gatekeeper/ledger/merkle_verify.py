"""Auditor-side RFC 9162 proof checking: inclusion and consistency, with no tree and no service.

What an auditor runs against hashes someone else handed over; the tree the service keeps (and
builds proofs from) is `merkle_tree`.
"""

from __future__ import annotations

from collections.abc import Sequence

from gatekeeper.errors import VerificationError
from gatekeeper.ledger.merkle_hash import HASH_SIZE, node_hash

__all__ = ["root_from_inclusion_proof", "verify_consistency", "verify_inclusion"]


def _consistency_length(old: int, new: int) -> int:
    """The number of hashes in PROOF(old, D[0:new]) (RFC 6962 §2.1.2 SUBPROOF), 0 <= old <= new."""
    if old in (0, new):
        return 0
    count, low, high, complete = 0, 0, new, True
    while old != high:
        middle = low + (1 << ((high - low - 1).bit_length() - 1))
        if old <= middle:
            high = middle
        else:
            low, complete = middle, False
        count += 1
    return count + (not complete)


def _check_hashes(what: str, hashes: Sequence[bytes]) -> None:
    for number, value in enumerate(hashes):
        if len(value) != HASH_SIZE:
            raise VerificationError(f"{what} hash {number} has {len(value)} bytes, not {HASH_SIZE}")


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root implied by an inclusion proof (RFC 9162 §2.1.3.2 steps 1-5 without the compare)."""
    if not 0 <= index < size:
        raise VerificationError(f"leaf index {index} is not in a tree of size {size}")
    inner = (index ^ (size - 1)).bit_length()
    expected = inner + (index >> inner).bit_count()
    if len(proof) != expected:
        raise VerificationError(
            f"the inclusion proof has {len(proof)} hashes; leaf {index} of a tree of size "
            f"{size} needs {expected}"
        )
    _check_hashes("inclusion proof", [leaf, *proof])
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:  # pragma: no cover - the exact length check above excludes it
            raise VerificationError("the inclusion proof is longer than the path")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:  # pragma: no cover - the exact length check above excludes it
        raise VerificationError("the inclusion proof is shorter than the path")
    return r


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2: raise VerificationError unless `leaf` is at `index` under `root`."""
    if root_from_inclusion_proof(leaf, index, size, proof) != root:
        raise VerificationError(
            f"the inclusion proof of leaf {index} does not lead to the root of size {size}"
        )


def _consistency_checks(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Handle the trivial cases; True when the proof still needs the RFC 9162 walk."""
    if not 0 <= old <= new:
        raise VerificationError(f"a tree of size {new} cannot extend one of size {old}")
    expected = _consistency_length(old, new)
    if len(proof) != expected:
        raise VerificationError(
            f"the consistency proof has {len(proof)} hashes; sizes {old} to {new} need {expected}"
        )
    _check_hashes("consistency proof", [old_root, new_root, *proof])
    if old == new and old_root != new_root:
        raise VerificationError(f"two different roots for the same tree size {old}")
    return 0 < old < new


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: raise VerificationError unless tree `old` is a prefix of tree `new`."""
    if not _consistency_checks(old, new, old_root, new_root, proof):
        return
    path = [old_root, *proof] if old & (old - 1) == 0 else list(proof)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:  # pragma: no cover - the exact length check excludes it
            raise VerificationError("the consistency proof is longer than the path")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or fr != old_root:
        raise VerificationError(
            f"the consistency proof does not lead to the signed root of size {old}"
        )
    if sr != new_root:
        raise VerificationError(
            f"the consistency proof does not lead to the signed root of size {new}"
        )
