"""The RFC 6962 Merkle tree: test vectors, an independent reference, and tampered proofs."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatekeeper.errors import VerificationError
from gatekeeper.ledger.merkle_hash import EMPTY_ROOT, leaf_hash
from gatekeeper.ledger.merkle_tree import (
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    nodes_for_append,
    required_nodes_for_consistency,
    required_nodes_for_inclusion,
    required_nodes_for_root,
    root_hash,
)
from gatekeeper.ledger.merkle_verify import verify_consistency, verify_inclusion

# The leaves, roots and proofs of the RFC 6962 test data, as transparency-dev/merkle publishes
# them (testonly/constants.go and proof/verify_test.go).
_LEAF_HEX = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657"]
LEAVES = [bytes.fromhex(h) for h in [*_LEAF_HEX, "606162636465666768696a6b6c6d6e6f"]]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
H = {
    "96a2": "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "5f08": "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "6b47": "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    "bc1a": "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "ca85": "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    "d37e": "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "fac5": "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "6e34": "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "0ebc": "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "b086": "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
}
# (leaf number 1-based, tree size, proof)
INCLUSION_VECTORS = [
    (1, 1, []),
    (1, 8, ["96a2", "5f08", "6b47"]),
    (6, 8, ["bc1a", "ca85", "d37e"]),
    (3, 3, ["fac5"]),
    (2, 5, ["6e34", "5f08", "bc1a"]),
]
CONSISTENCY_VECTORS = [
    (1, 1, []),
    (1, 8, ["96a2", "5f08", "6b47"]),
    (6, 8, ["0ebc", "ca85", "d37e"]),
    (2, 5, ["5f08", "bc1a"]),
    (6, 7, ["0ebc", "b086", "d37e"]),
]


def _hashes(names: list[str]) -> list[bytes]:
    return [bytes.fromhex(H[name]) for name in names]


@pytest.fixture(scope="module")
def tree() -> MemoryTree:
    built = MemoryTree()
    for leaf in LEAVES:
        built.append(leaf)
    return built


# An independent reference, written straight from RFC 6962 §2.1 (MTH, PATH, PROOF/SUBPROOF).


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return _sha(b"")
    if n == 1:
        return _sha(b"\x00" + d[0])
    k = _k(n)
    return _sha(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:]))


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def ref_proof(m: int, d: list[bytes]) -> list[bytes]:
    return ref_subproof(m, d, True) if 0 < m < len(d) else []


def _leaves(count: int) -> list[bytes]:
    return [b"leaf %d" % i for i in range(count)]


def _memory_tree(leaves: list[bytes]) -> MemoryTree:
    built = MemoryTree()
    for leaf in leaves:
        built.append(leaf)
    return built


# Vectors.


def test_roots_match_the_rfc6962_test_data(tree: MemoryTree) -> None:
    """The root of every prefix of the 8-leaf test tree is the published one (5dc9...4328)."""
    assert [tree.root(size).hex() for size in range(9)] == ROOTS
    assert root_hash(0, tree.get) == EMPTY_ROOT


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION_VECTORS)
def test_inclusion_proofs_match_the_vectors(
    tree: MemoryTree, leaf: int, size: int, proof: list[str]
) -> None:
    """Inclusion proofs equal the published vectors and verify against the published root."""
    assert tree.inclusion_proof(leaf - 1, size) == _hashes(proof)
    verify_inclusion(
        leaf_hash(LEAVES[leaf - 1]), leaf - 1, size, _hashes(proof), bytes.fromhex(ROOTS[size])
    )


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_VECTORS)
def test_consistency_proofs_match_the_vectors(
    tree: MemoryTree, old: int, new: int, proof: list[str]
) -> None:
    """Consistency proofs equal the published vectors and verify against the published roots."""
    assert tree.consistency_proof(old, new) == _hashes(proof)
    verify_consistency(
        old, new, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]), _hashes(proof)
    )


# Against the reference.


@settings(max_examples=60, deadline=None)
@given(size=st.integers(min_value=1, max_value=140), data=st.data())
def test_every_proof_agrees_with_the_reference(size: int, data: st.DataObject) -> None:
    """Roots, inclusion and consistency proofs equal RFC 6962's recursive definitions."""
    leaves = _leaves(size)
    built = _memory_tree(leaves)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    old = data.draw(st.integers(min_value=0, max_value=size))
    assert built.root() == ref_mth(leaves)
    proof = built.inclusion_proof(index)
    assert proof == ref_path(index, leaves)
    verify_inclusion(leaf_hash(leaves[index]), index, size, proof, ref_mth(leaves))
    consistency = built.consistency_proof(old)
    assert consistency == ref_proof(old, leaves)
    verify_consistency(old, size, ref_mth(leaves[:old]), ref_mth(leaves), consistency)


def test_all_proofs_of_small_trees_verify() -> None:
    """Every inclusion and consistency proof of every tree up to 33 leaves verifies."""
    leaves = _leaves(33)
    built = _memory_tree(leaves)
    roots = [ref_mth(leaves[:n]) for n in range(34)]
    for new in range(1, 34):
        for index in range(new):
            proof = built.inclusion_proof(index, new)
            verify_inclusion(leaf_hash(leaves[index]), index, new, proof, roots[new])
        for old in range(new + 1):
            verify_consistency(old, new, roots[old], roots[new], built.consistency_proof(old, new))


# The storage model.


def test_append_reads_and_writes_logarithmically_many_nodes() -> None:
    """Appending leaf n reads at most log2(n) stored nodes and writes at most log2(n) + 1."""
    built = MemoryTree()
    for size in range(1, 1100):
        reads: list[tuple[int, int]] = []

        def counting_get(level: int, index: int, reads: list[tuple[int, int]] = reads) -> bytes:
            reads.append((level, index))
            return built.get(level, index)

        new = nodes_for_append(built.size, leaf_hash(b"%d" % size), counting_get)
        assert len(reads) <= size.bit_length()
        assert len(new) <= size.bit_length() + 1
        built.append(b"%d" % size)


def test_required_nodes_are_enough_for_a_dict_backed_get() -> None:
    """The required_nodes_* keys alone let a dict answer roots and proofs (one query)."""
    leaves = _leaves(77)
    built = _memory_tree(leaves)
    for size, index, old in [(77, 0, 1), (77, 76, 64), (64, 33, 63), (5, 4, 3), (1, 0, 0)]:
        for keys, compute in [
            (required_nodes_for_root(size), lambda g, s=size: root_hash(s, g)),
            (
                required_nodes_for_inclusion(index, size),
                lambda g, i=index, s=size: inclusion_proof(i, s, g),
            ),
            (
                required_nodes_for_consistency(old, size),
                lambda g, o=old, s=size: consistency_proof(o, s, g),
            ),
        ]:
            table = {key: built.get(*key) for key in keys}
            assert compute(lambda level, i, t=table: t[(level, i)]) == compute(built.get)
            assert len(keys) <= 2 * size.bit_length()


# Negative cases.


def _probes(index: int, size: int, proof: list[bytes]) -> list[tuple[int, int, list[bytes]]]:
    some = hashlib.sha256(b"some").digest()
    probes = [
        (index - 1, size, proof),
        (index + 1, size, proof),
        (index ^ 2, size, proof),
        (index, size * 2, proof),
        (index, size // 2, proof),
        (index, size, [*proof, b""]),
        (index, size, [*proof, some]),
        (index, size, [some, *proof]),
        (index, size, proof[:-1]),
    ]
    for position in range(len(proof)):
        flipped = list(proof)
        flipped[position] = bytes([proof[position][0] ^ 8]) + proof[position][1:]
        probes.append((index, size, flipped))
    return probes


def test_tampered_inclusion_proofs_fail() -> None:
    """A wrong index, size, length or a single flipped bit makes inclusion verification fail."""
    leaves = _leaves(21)
    built = _memory_tree(leaves)
    for index in range(21):
        proof = built.inclusion_proof(index)
        for probe_index, probe_size, probe_proof in _probes(index, 21, proof):
            if (probe_index, probe_size, probe_proof) == (index, 21, proof):
                continue
            with pytest.raises(VerificationError):
                verify_inclusion(
                    leaf_hash(leaves[index]), probe_index, probe_size, probe_proof, built.root()
                )
        with pytest.raises(VerificationError):
            verify_inclusion(leaf_hash(b"other"), index, 21, proof, built.root())
        with pytest.raises(VerificationError):
            verify_inclusion(leaf_hash(leaves[index]), index, 21, proof, EMPTY_ROOT)


def test_tampered_consistency_proofs_fail() -> None:
    """Wrong sizes, swapped roots, extra, missing or flipped hashes fail consistency."""
    leaves = _leaves(13)
    built = _memory_tree(leaves)
    roots = [built.root(n) for n in range(14)]
    some = hashlib.sha256(b"some").digest()
    for old in range(1, 13):
        proof = built.consistency_proof(old, 13)
        bad: list[tuple[int, int, bytes, bytes, list[bytes]]] = [
            (old - 1, 13, roots[old], roots[13], proof),
            (old + 1, 13, roots[old], roots[13], proof),
            (old, 26, roots[old], roots[13], proof),
            (old, 13, roots[13], roots[old], proof),
            (old, 13, some, roots[13], proof),
            (old, 13, roots[old], some, proof),
            (old, 13, roots[old], roots[13], []),
            (old, 13, roots[old], roots[13], [*proof, some]),
            (old, 13, roots[old], roots[13], [some, *proof]),
            (old, 13, roots[old], roots[13], proof[:-1]),
            (13, old, roots[13], roots[old], proof),
        ]
        for position in range(len(proof)):
            flipped = list(proof)
            flipped[position] = bytes([proof[position][0] ^ 16]) + proof[position][1:]
            bad.append((old, 13, roots[old], roots[13], flipped))
        for case in bad:
            if case[0] == 0 and not case[4]:
                continue  # anything is consistent with the empty tree
            with pytest.raises(VerificationError):
                verify_consistency(*case)


def test_trivial_consistency_cases() -> None:
    """Equal sizes need equal roots and an empty proof; size 0 extends to anything."""
    root = hashlib.sha256(b"r").digest()
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    verify_consistency(0, 5, EMPTY_ROOT, root, [])
    verify_consistency(3, 3, root, root, [])
    with pytest.raises(VerificationError, match="two different roots"):
        verify_consistency(3, 3, root, EMPTY_ROOT, [])
    with pytest.raises(VerificationError, match="need 0"):
        verify_consistency(3, 3, root, root, [root])
    with pytest.raises(VerificationError, match="bytes, not 32"):
        verify_consistency(1, 2, b"short", root, [root])


def test_bad_arguments_are_refused() -> None:
    """Proofs of leaves outside the tree and negative sizes are refused with a sentence."""
    built = _memory_tree(_leaves(4))
    with pytest.raises(ValueError, match="not in a tree of size 4"):
        built.inclusion_proof(4)
    with pytest.raises(ValueError, match="no consistency proof"):
        built.consistency_proof(5, 4)
    with pytest.raises(ValueError, match="has 4 leaves"):
        built.root(5)
    with pytest.raises(ValueError, match="negative"):
        root_hash(-1, built.get)
    with pytest.raises(ValueError, match="negative"):
        nodes_for_append(-1, EMPTY_ROOT, built.get)
    with pytest.raises(ValueError, match="32 bytes"):
        nodes_for_append(4, b"x", built.get)
    with pytest.raises(VerificationError, match="not in a tree of size 0"):
        verify_inclusion(EMPTY_ROOT, 0, 0, [], EMPTY_ROOT)
