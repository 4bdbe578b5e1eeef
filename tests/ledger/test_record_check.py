"""The one record check: envelope signature, leaf hash, inclusion proof; refusals as sentences."""

from __future__ import annotations

import base64
from typing import Any

from gatekeeper.attest.keys import SigningKey
from gatekeeper.ledger.key_chain import KeyPeriods
from gatekeeper.ledger.merkle_tree import MemoryTree
from gatekeeper.ledger.record_check import LEAF_MISMATCH, InclusionClaim, check_record
from gatekeeper.ledger.testing import sample_records

KEY = SigningKey.from_seed(b"\x52" * 32)
KEYS = {KEY.public.key_id: KEY.public}


def _stored(count: int = 3) -> tuple[list[dict[str, Any]], MemoryTree]:
    tree = MemoryTree()
    return list(sample_records(count, KEY, tree)), tree


def _claim(tree: MemoryTree, index: int) -> InclusionClaim:
    return InclusionClaim(tree.size, tree.root(), tree.inclusion_proof(index))


def _check(record: dict[str, Any], **overrides: Any) -> Any:
    arguments: dict[str, Any] = {
        "leaf_hash": record["leaf_hash"],
        "log_index": record["log_index"],
        "keys": KEYS,
    }
    arguments.update(overrides)
    return check_record(record["envelope"], **arguments)


def test_a_stored_record_verifies_and_yields_its_statement() -> None:
    """A record as the log holds it has no problem; its statement and leaf come back."""
    records, tree = _stored()
    checked = _check(records[1], inclusion=_claim(tree, 1))
    assert checked.ok
    assert checked.sentences() == []
    assert checked.statement is not None
    assert checked.statement.predicate["verdict"] == "pass"
    assert checked.leaf is not None
    assert checked.leaf.hex() == records[1]["leaf_hash"]


def test_without_keys_the_signature_is_not_read() -> None:
    """A caller holding no keys (the receipt check) gets leaf and proof checked, no statement."""
    records, tree = _stored()
    checked = _check(records[0], keys=None, inclusion=_claim(tree, 0))
    assert checked.ok
    assert checked.statement is None


def test_a_changed_payload_fails_signature_leaf_and_proof() -> None:
    """A forged payload is named three times: bad signature, leaf mismatch, proof to nowhere."""
    records, tree = _stored()
    envelope = dict(records[2]["envelope"], payload=base64.b64encode(b"{}").decode())
    checked = _check(dict(records[2], envelope=envelope), inclusion=_claim(tree, 2))
    parts = [problem.part for problem in checked.problems]
    assert parts == ["envelope", "leaf", "proof"]
    assert checked.sentences()[0].startswith("envelope: ")
    assert checked.sentences()[1] == LEAF_MISMATCH
    assert checked.sentences()[2] == (
        "inclusion proof: the inclusion proof of leaf 2 does not lead to the root of size 3"
    )


def test_a_wrong_key_and_a_wrong_index_are_named() -> None:
    """Another key's signature and a proof for another index each give one sentence."""
    records, tree = _stored()
    other = SigningKey.from_seed(b"\x53" * 32).public
    checked = _check(records[0], keys={other.key_id: other}, inclusion=_claim(tree, 1))
    assert [problem.part for problem in checked.problems] == ["envelope", "proof"]


def test_an_envelope_without_canonical_form_stops_before_the_leaf() -> None:
    """An envelope holding a float has no RFC 8785 bytes: one sentence, no leaf, no proof check."""
    records, tree = _stored(1)
    envelope = dict(records[0]["envelope"], extra=float("nan"))
    checked = _check(dict(records[0], envelope=envelope), keys=None, inclusion=_claim(tree, 0))
    assert checked.leaf is None
    assert checked.encoded is None
    assert len(checked.sentences()) == 1
    assert checked.sentences()[0].startswith("envelope: ")


def test_a_signature_by_a_key_retired_before_the_record_is_named() -> None:
    """With the log's key periods, a record after its key's retirement names index and key;
    the retiring transition itself (the key's last record) and earlier records pass."""
    records, tree = _stored()
    periods = KeyPeriods(started={}, retired={KEY.key_id: 1}, followed=1)
    assert _check(records[1], periods=periods).ok
    checked = _check(records[2], periods=periods, inclusion=_claim(tree, 2))
    assert [problem.part for problem in checked.problems] == ["key"]
    assert checked.sentences() == [
        f"signed by key {KEY.key_id[:16]}..., which the log retired at index 1: a record at "
        "log index 2 is its successor's to sign"
    ]
    other = SigningKey.from_seed(b"\x54" * 32)
    assert _check(
        records[2], keys={**KEYS, other.key_id: other.public}, periods=periods
    ).sentences()
    unrelated = KeyPeriods(started={}, retired={other.key_id: 0}, followed=1)
    assert _check(records[2], periods=unrelated).ok
