"""The bundle verifier, the record page and the client's receipt check refuse a tampered record
with the same sentence: they call the one record check (`ledger.record_check`)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from connectors.evidence import InclusionProof, Receipt
from gatekeeper.attest.keys import SigningKey
from gatekeeper.errors import VerificationError
from gatekeeper.ledger import verify_bundle
from gatekeeper.ledger.bundle import BundleWriter
from gatekeeper.ledger.checkpoint import Checkpoint, sign_checkpoint
from gatekeeper.ledger.merkle_tree import MemoryTree
from gatekeeper.ledger.record_check import LEAF_MISMATCH
from gatekeeper.ledger.testing import ORIGIN, keys_document, sample_records
from gatekeeper.service.pages.views import check_receipt
from gatekeeper.service.records import RecordOut

KEY = SigningKey.from_seed(b"\x61" * 32)
PEM = KEY.public.public_pem().encode()


def _bundle_sentences(
    path: Path, records: list[dict[str, Any]], tree: MemoryTree, checkpoint: Checkpoint
) -> list[str]:
    with path.open("wb") as out:
        writer = BundleWriter(out, signing_key=KEY, exported_at="2026-02-01T00:00:00Z")
        for record in records:
            writer.write_record(record, tree.inclusion_proof(record["log_index"]))
        writer.finish(checkpoint, keys_document(KEY))
    report = verify_bundle(path, pinned_key_pem=PEM, workers=1)
    return [failure.message for failure in report.failures if failure.record == 2]


def _page_sentence(record: dict[str, Any], tree: MemoryTree, checkpoint: Checkpoint) -> str:
    proof = [h.hex() for h in tree.inclusion_proof(record["log_index"])]
    receipt = {
        "checkpoint": checkpoint.model_dump(include=set(Checkpoint.model_fields) - {"origin"}),
        "inclusion_proof": {"index": record["log_index"], "size": tree.size, "hashes": proof},
    }
    shown = RecordOut.model_validate(dict(record, receipt=receipt))
    status = check_receipt(shown, {KEY.key_id: KEY.public})
    assert not status.verified
    return status.text.removeprefix("not verified: ")


def _client_sentence(record: dict[str, Any], tree: MemoryTree, checkpoint: Checkpoint) -> str:
    proof = [h.hex() for h in tree.inclusion_proof(record["log_index"])]
    receipt = Receipt(
        record_id=record["id"],
        project=record["project"],
        log_index=record["log_index"],
        leaf_hash=record["leaf_hash"],
        integrated_at=record["integrated_at"],
        created=True,
        inclusion_proof=InclusionProof(index=record["log_index"], size=tree.size, hashes=proof),
        checkpoint=checkpoint,
        envelope=record["envelope"],
    )
    with pytest.raises(VerificationError) as refused:
        receipt.check_inclusion()
    return str(refused.value).removeprefix("the receipt: ")


def _stored() -> tuple[list[dict[str, Any]], MemoryTree, Checkpoint]:
    tree = MemoryTree()
    records = list(sample_records(3, KEY, tree))
    return records, tree, sign_checkpoint(ORIGIN, tree.size, tree.root(), KEY)


def test_a_changed_leaf_hash_is_refused_everywhere_with_one_sentence(tmp_path: Path) -> None:
    """A record whose leaf hash was rewritten: bundle, page and receipt name the same mismatch."""
    records, tree, checkpoint = _stored()
    records[1] = dict(records[1], leaf_hash="11" * 32)
    bundle = _bundle_sentences(tmp_path / "b.zip", records, tree, checkpoint)
    assert bundle == [LEAF_MISMATCH]
    assert _page_sentence(records[1], tree, checkpoint) == LEAF_MISMATCH
    assert _client_sentence(records[1], tree, checkpoint) == LEAF_MISMATCH


def test_a_forged_payload_is_refused_everywhere_with_the_same_sentences(tmp_path: Path) -> None:
    """A forged statement: the signature, the leaf and the proof sentences agree between the
    bundle and the page; the receipt check (no keys) names the same leaf and proof."""
    records, tree, checkpoint = _stored()
    forged = dict(records[1]["envelope"], payload=base64.b64encode(b'{"forged":1}').decode())
    records[1] = dict(records[1], envelope=forged)
    bundle = _bundle_sentences(tmp_path / "b.zip", records, tree, checkpoint)
    page = _page_sentence(records[1], tree, checkpoint).split("; ")
    assert len(bundle) == 3
    assert bundle[0].startswith("envelope: ")
    assert page == bundle
    assert _client_sentence(records[1], tree, checkpoint).split("; ") == bundle[1:]
