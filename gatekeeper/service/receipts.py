"""Receipts: each record's inclusion proof to a signed checkpoint.

A record's receipt is the proof kept at integration (to the checkpoint of size index + 1, signed
in the same transaction): answering it costs one query for the checkpoints of a whole page.
Records stored without one get a proof to the newest checkpoint, computed in one node query.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.engine import Connection

from gatekeeper.ledger import merkle_tree
from gatekeeper.service.records import (
    CheckpointOut,
    InclusionProofOut,
    ReceiptOut,
    RecordOut,
    StoredRecord,
    checkpoint_from_row,
)
from gatekeeper.service.store import EvidenceStore
from gatekeeper.service.tables import CheckpointRow
from gatekeeper.service.tree_nodes import NodeReader


def with_receipts(
    store: EvidenceStore, connection: Connection, records: Sequence[StoredRecord]
) -> list[RecordOut]:
    """The records with their receipts."""
    kept = [r.log_index + 1 for r in records if r.inclusion_proof is not None]
    checkpoints = _checkpoints(connection, kept) if kept else {}
    missing = [r.log_index for r in records if r.log_index + 1 not in checkpoints]
    computed: dict[int, ReceiptOut] = {}
    latest = store.latest_checkpoint(connection) if missing else None
    if latest is not None:
        computed = dict(zip(missing, receipts(connection, latest, missing), strict=True))
    out = []
    for record in records:
        checkpoint = checkpoints.get(record.log_index + 1)
        if checkpoint is not None and record.inclusion_proof is not None:
            receipt = ReceiptOut(
                checkpoint=checkpoint,
                inclusion_proof=InclusionProofOut(
                    index=record.log_index,
                    size=checkpoint.size,
                    hashes=record.inclusion_proof.split(),
                ),
            )
            out.append(record.to_out(receipt))
        else:
            out.append(record.to_out(computed.get(record.log_index)))
    return out


def records_json(
    store: EvidenceStore, connection: Connection, records: Sequence[StoredRecord]
) -> bytes:
    """The JSON array of `with_receipts`, written directly: the stored envelope bytes are
    canonical JSON already, and each checkpoint is serialised once per page."""
    kept = [r.log_index + 1 for r in records if r.inclusion_proof is not None]
    checkpoints = _checkpoints(connection, kept) if kept else {}
    as_json = {size: cp.model_dump_json().encode() for size, cp in checkpoints.items()}
    missing = [r for r in records if r.log_index + 1 not in checkpoints]
    computed: dict[int, bytes] = {}
    if missing:
        for out in with_receipts(store, connection, missing):
            if out.receipt is not None:
                computed[out.log_index] = out.receipt.model_dump_json().encode()
    parts = []
    for record in records:
        receipt = computed.get(record.log_index, b"null")
        checkpoint = as_json.get(record.log_index + 1)
        if checkpoint is not None and record.inclusion_proof is not None:
            proof = {
                "index": record.log_index,
                "size": record.log_index + 1,
                "hashes": record.inclusion_proof.split(),
            }
            receipt = b'{"checkpoint":%b,"inclusion_proof":%b}' % (checkpoint, _dumps(proof))
        parts.append(_record_json(record, receipt))
    return b"[" + b",".join(parts) + b"]"


def record_json(record: StoredRecord, receipt: ReceiptOut | None) -> bytes:
    """One record as the API answers it (RecordOut), written from the stored envelope bytes."""
    receipt_json = b"null" if receipt is None else receipt.model_dump_json().encode()
    return _record_json(record, receipt_json)


def _dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _record_json(record: StoredRecord, receipt: bytes) -> bytes:
    head = _dumps(
        {
            "id": record.id,
            "project": record.project,
            "log_index": record.log_index,
            "leaf_hash": record.leaf_hash,
            "integrated_at": record.integrated_at,
            "waived": record.waived,
            "waived_rules": list(record.waived_rules),
        }
    )
    return b'%b,"envelope":%b,"receipt":%b}' % (head[:-1], record.envelope, receipt)


def _checkpoints(connection: Connection, sizes: Sequence[int]) -> dict[int, CheckpointOut]:
    rows = connection.execute(
        select(CheckpointRow.__table__).where(CheckpointRow.size.in_(sorted(set(sizes))))
    )
    return {int(row.size): checkpoint_from_row(row._mapping) for row in rows}


def receipts(
    connection: Connection, checkpoint: CheckpointOut, indices: Sequence[int]
) -> list[ReceiptOut]:
    """Receipts of the leaves `indices` against `checkpoint` (each index below its size)."""
    reader = NodeReader(connection)
    reader.prefetch(
        pair
        for index in indices
        for pair in merkle_tree.required_nodes_for_inclusion(index, checkpoint.size)
    )
    return [
        ReceiptOut(
            checkpoint=checkpoint,
            inclusion_proof=InclusionProofOut(
                index=index,
                size=checkpoint.size,
                hashes=[
                    digest.hex()
                    for digest in merkle_tree.inclusion_proof(index, checkpoint.size, reader.get)
                ],
            ),
        )
        for index in indices
    ]
