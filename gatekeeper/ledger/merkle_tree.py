"""The service-side RFC 6962 Merkle tree: which subtree nodes to store, roots and RFC 9162 proofs.

Storage model: only the hashes of complete (perfect) subtrees are stored, keyed `(level, index)`;
node `(level, index)` covers leaves `[index * 2**level, (index + 1) * 2**level)`. Appending leaf
number `size` adds the leaf node and every perfect subtree it completes: at most log2(n) + 1 new
nodes, computed from at most log2(n) stored ones. Any other hash (a root, a proof element) is
folded from at most log2(n) stored nodes; the `required_nodes_*` functions name them so a
database can fetch them in one query and hand them back through a dict-backed `get`. Checking a
proof is `merkle_verify`'s job, hashing `merkle_hash`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from gatekeeper.errors import LedgerError
from gatekeeper.ledger.merkle_hash import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash

__all__ = [
    "GetNode",
    "MemoryTree",
    "NodeKey",
    "consistency_proof",
    "inclusion_proof",
    "nodes_for_append",
    "required_nodes_for_consistency",
    "required_nodes_for_inclusion",
    "required_nodes_for_root",
    "root_hash",
]

NodeKey = tuple[int, int]
GetNode = Callable[[int, int], bytes]
_Range = tuple[int, int]


def nodes_for_append(size: int, leaf_hash: bytes, get: GetNode) -> list[tuple[int, int, bytes]]:
    """The `(level, index, hash)` nodes to store when leaf number `size` (0-based) is appended."""
    if size < 0:
        raise LedgerError("the tree size cannot be negative")
    if len(leaf_hash) != HASH_SIZE:
        raise LedgerError(f"a leaf hash has {HASH_SIZE} bytes, not {len(leaf_hash)}")
    new = [(0, size, leaf_hash)]
    level, index, current = 0, size, leaf_hash
    while index & 1:
        current = node_hash(get(level, index - 1), current)
        level, index = level + 1, index >> 1
        new.append((level, index, current))
    return new


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _range_keys(start: int, end: int) -> list[NodeKey]:
    """The perfect subtrees, left to right, that make up the RFC 6962 subtree [start, end)."""
    keys: list[NodeKey] = []
    while start < end:
        level = (end - start).bit_length() - 1
        keys.append((level, start >> level))
        start += 1 << level
    return keys


def _range_hash(start: int, end: int, get: GetNode) -> bytes:
    """MTH of the leaves [start, end), folded right to left from stored perfect subtrees."""
    keys = _range_keys(start, end)
    result = get(*keys[-1])
    for key in reversed(keys[:-1]):
        result = node_hash(get(*key), result)
    return result


def _inclusion_ranges(index: int, size: int) -> list[_Range]:
    """The subtrees whose hashes form PATH(index, D[0:size]), leaf side first."""
    ranges: list[_Range] = []
    low, high = 0, size
    while high - low > 1:
        middle = low + _split(high - low)
        if index < middle:
            ranges.append((middle, high))
            high = middle
        else:
            ranges.append((low, middle))
            low = middle
    ranges.reverse()
    return ranges


def _consistency_ranges(old: int, new: int) -> list[_Range]:
    """The subtrees whose hashes form PROOF(old, D[0:new]) (RFC 6962 §2.1.2 SUBPROOF)."""
    if old in (0, new):
        return []
    ranges: list[_Range] = []
    low, high, complete = 0, new, True
    while old != high:
        middle = low + _split(high - low)
        if old <= middle:
            ranges.append((middle, high))
            high = middle
        else:
            ranges.append((low, middle))
            low, complete = middle, False
    if not complete:
        ranges.append((low, high))
    ranges.reverse()
    return ranges


def _check_inclusion_args(index: int, size: int) -> None:
    if not 0 <= index < size:
        raise LedgerError(f"leaf index {index} is not in a tree of size {size}")


def _check_consistency_args(old: int, new: int) -> None:
    if not 0 <= old <= new:
        raise LedgerError(f"no consistency proof from size {old} to size {new}")


def _keys_of(ranges: Sequence[_Range]) -> list[NodeKey]:
    return [key for start, end in ranges for key in _range_keys(start, end)]


def required_nodes_for_root(size: int) -> list[NodeKey]:
    """The stored nodes `root_hash(size, get)` reads."""
    return _range_keys(0, size)


def required_nodes_for_inclusion(index: int, size: int) -> list[NodeKey]:
    """The stored nodes `inclusion_proof(index, size, get)` reads."""
    _check_inclusion_args(index, size)
    return _keys_of(_inclusion_ranges(index, size))


def required_nodes_for_consistency(old: int, new: int) -> list[NodeKey]:
    """The stored nodes `consistency_proof(old, new, get)` reads."""
    _check_consistency_args(old, new)
    return _keys_of(_consistency_ranges(old, new))


def root_hash(size: int, get: GetNode) -> bytes:
    """MTH(D[0:size]); the hash of the empty string for the empty tree."""
    if size < 0:
        raise LedgerError("the tree size cannot be negative")
    return _range_hash(0, size, get) if size else EMPTY_ROOT


def inclusion_proof(index: int, size: int, get: GetNode) -> list[bytes]:
    """The RFC 9162 inclusion proof (audit path) of leaf `index` in the tree of `size` leaves."""
    _check_inclusion_args(index, size)
    return [_range_hash(start, end, get) for start, end in _inclusion_ranges(index, size)]


def consistency_proof(old: int, new: int, get: GetNode) -> list[bytes]:
    """The RFC 9162 consistency proof that the tree of size `old` is a prefix of size `new`."""
    _check_consistency_args(old, new)
    return [_range_hash(start, end, get) for start, end in _consistency_ranges(old, new)]


class MemoryTree:
    """A list-backed Merkle tree using the same append model as the database store."""

    def __init__(self) -> None:
        self._nodes: dict[NodeKey, bytes] = {}
        self._size = 0

    @property
    def size(self) -> int:
        """The number of leaves."""
        return self._size

    def get(self, level: int, index: int) -> bytes:
        """The stored hash of perfect subtree `(level, index)`."""
        return self._nodes[(level, index)]

    def append_hash(self, leaf: bytes) -> int:
        """Append a leaf by its hash; returns its index."""
        index = self._size
        for level, position, value in nodes_for_append(index, leaf, self.get):
            self._nodes[(level, position)] = value
        self._size += 1
        return index

    def append(self, data: bytes) -> int:
        """Append a leaf by its data; returns its index."""
        return self.append_hash(leaf_hash(data))

    def root(self, size: int | None = None) -> bytes:
        """The root of the first `size` leaves (all by default)."""
        return root_hash(self._size if size is None else self._check(size), self.get)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path of leaf `index` in the tree of `size` leaves (all by default)."""
        return inclusion_proof(index, self._size if size is None else self._check(size), self.get)

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        """The proof that the first `old` leaves are a prefix of the first `new`."""
        return consistency_proof(old, self._size if new is None else self._check(new), self.get)

    def _check(self, size: int) -> int:
        if size > self._size:
            raise LedgerError(f"the tree has {self._size} leaves, not {size}")
        return size
