"""The pages' reads besides the workspace's: the projects a token may read, and a record's
receipt to the newest checkpoint (whatever receipt the record was stored with)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection

from gatekeeper.service.auth import Principal
from gatekeeper.service.policies import PublishedPolicy, list_policies
from gatekeeper.service.records import (
    InclusionProofOut,
    ReceiptOut,
    RecordOut,
    StoredRecord,
)
from gatekeeper.service.store import EvidenceStore, hex_hashes
from gatekeeper.service.workspace.listing import records_by_id
from gatekeeper.service.workspace.models import RecordSummary
from gatekeeper.service.workspace.registers import corrected_failures, correction_of
from gatekeeper.service.workspace.releases import ReleaseEntry, release_of

_PROJECTS_SHOWN = 1000
# one index seek per project (SELECT DISTINCT would read every record: 30 ms at 100,000)
_EVERY_PROJECT = text(
    "WITH RECURSIVE p(project, n) AS ("
    " SELECT MIN(project), 1 FROM record_facets"
    " UNION ALL"
    " SELECT (SELECT MIN(project) FROM record_facets WHERE project > p.project), n + 1"
    " FROM p WHERE p.project IS NOT NULL AND n < :most)"
    " SELECT project FROM p WHERE project IS NOT NULL"
)


def readable_projects(connection: Connection, principal: Principal) -> list[str]:
    """The projects `principal` may read: its own, or the first 1,000 holding records."""
    if principal.projects is not None:
        return sorted(principal.projects)
    rows = connection.execute(_EVERY_PROJECT, {"most": _PROJECTS_SHOWN}).scalars()
    return [str(project) for project in rows]


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


@dataclass(frozen=True)
class RecordContext:
    """What the record page shows around the record: its workspace summary (waivers), the
    published policy version that judged it, its correction or the failures it corrected."""

    summary: RecordSummary | None
    policy: PublishedPolicy | None
    correction: RecordSummary | None
    corrected: tuple[RecordSummary, ...]
    release: ReleaseEntry | None


def record_context(
    connection: Connection, principal: Principal, record: StoredRecord
) -> RecordContext:
    """The record page's surroundings of `record`: corrections come from its own project, and
    a release links only the change records `principal` may read."""
    summary = records_by_id(connection, [record.id]).get(record.id)
    if summary is None:
        return RecordContext(None, None, None, (), None)
    policy = next(
        (
            published
            for published in list_policies(connection, record.project)
            if published.digest == summary.policy_digest
        ),
        None,
    )
    return RecordContext(
        summary=summary,
        policy=policy,
        correction=correction_of(connection, summary),
        corrected=corrected_failures(connection, summary),
        release=release_of(connection, summary, principal.projects),
    )
