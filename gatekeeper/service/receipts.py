"""Receipts: each record's inclusion proof to one signed checkpoint, fetched in one query."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import Connection

from gatekeeper.ledger import merkle
from gatekeeper.service.records import (
    CheckpointOut,
    InclusionProofOut,
    ReceiptOut,
    RecordOut,
    StoredRecord,
)
from gatekeeper.service.store import EvidenceStore, NodeReader


def with_receipts(
    store: EvidenceStore, connection: Connection, records: Sequence[StoredRecord]
) -> list[RecordOut]:
    """The records with their inclusion proofs to the newest checkpoint."""
    checkpoint = store.latest_checkpoint(connection)
    if checkpoint is None:
        return [record.to_out() for record in records]
    return [
        record.to_out(receipt)
        for record, receipt in zip(
            records, receipts(connection, checkpoint, [r.log_index for r in records]), strict=True
        )
    ]


def receipts(
    connection: Connection, checkpoint: CheckpointOut, indices: Sequence[int]
) -> list[ReceiptOut]:
    """Receipts of the leaves `indices` against `checkpoint` (each index below its size)."""
    reader = NodeReader(connection)
    reader.prefetch(
        pair
        for index in indices
        for pair in merkle.required_nodes_for_inclusion(index, checkpoint.size)
    )
    return [
        ReceiptOut(
            checkpoint=checkpoint,
            inclusion_proof=InclusionProofOut(
                index=index,
                size=checkpoint.size,
                hashes=[
                    digest.hex()
                    for digest in merkle.inclusion_proof(index, checkpoint.size, reader.get)
                ],
            ),
        )
        for index in indices
    ]
