"""The pages' reads: filtered records, and a record's receipt to the newest checkpoint.

The pages query the tables themselves (the API's handlers answer wire bytes), and always prove a
record against the newest signed checkpoint, whatever receipt the record was stored with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from gatekeeper.service._clock import format_time
from gatekeeper.service.auth import Principal
from gatekeeper.service.deps import require_project
from gatekeeper.service.records import (
    InclusionProofOut,
    ReceiptOut,
    RecordOut,
    StoredRecord,
    record_from_row,
)
from gatekeeper.service.store import EvidenceStore, hex_hashes
from gatekeeper.service.tables import RecordRow


@dataclass(frozen=True)
class RecordFilter:
    """What the records list is filtered by (None: not filtered)."""

    project: str | None = None
    commit: str | None = None
    ref: str | None = None
    verdict: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def query_records(
    connection: Connection,
    principal: Principal,
    wanted: RecordFilter,
    *,
    after: int | None,
    limit: int,
) -> tuple[list[StoredRecord], int | None]:
    """Records in log order after log index `after`, and the cursor of the next page (or None)."""
    if wanted.project is not None:
        require_project(principal, wanted.project)
    query = select(RecordRow.__table__).order_by(RecordRow.log_index).limit(limit)
    if wanted.project is not None:
        query = query.where(RecordRow.project == wanted.project)
    elif principal.projects is not None:
        query = query.where(RecordRow.project.in_(sorted(principal.projects)))
    for column, value in (
        (RecordRow.commit, wanted.commit),
        (RecordRow.ref, wanted.ref),
        (RecordRow.verdict, wanted.verdict),
    ):
        if value is not None:
            query = query.where(column == value)
    if wanted.since is not None:
        query = query.where(RecordRow.integrated_at >= format_time(wanted.since))
    if wanted.until is not None:
        query = query.where(RecordRow.integrated_at < format_time(wanted.until))
    if after is not None:
        query = query.where(RecordRow.log_index > after)
    records = [record_from_row(row._mapping) for row in connection.execute(query)]
    following = records[-1].log_index if len(records) == limit else None
    return records, following


def with_latest_receipt(
    store: EvidenceStore, connection: Connection, record: StoredRecord
) -> RecordOut:
    """The record with its inclusion proof to the newest signed checkpoint."""
    checkpoint = store.latest_checkpoint(connection)
    if checkpoint is None or record.log_index >= checkpoint.size:
        return record.to_out()
    hashes = store.inclusion_proof(record.log_index, checkpoint.size, connection)
    proof = InclusionProofOut(
        index=record.log_index, size=checkpoint.size, hashes=hex_hashes(hashes)
    )
    return record.to_out(ReceiptOut(checkpoint=checkpoint, inclusion_proof=proof))
