"""The records listing: newest first, filtered, keyset paging both ways, with the total."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from gatekeeper.service.tables import RecordFacetRow
from gatekeeper.service.workspace.filters import RecordFilter, conditions
from gatekeeper.service.workspace.models import RecordsPage, RecordSummary, summary_from_row

__all__ = ["count_records", "list_records", "records_by_id"]

_F = RecordFacetRow
_TABLE = RecordFacetRow.__table__


def count_records(connection: Connection, where: RecordFilter) -> int:
    """How many records the filter selects."""
    query = select(func.count()).select_from(_TABLE).where(*conditions(where))
    return int(connection.execute(query).scalar_one())


def list_records(
    connection: Connection,
    where: RecordFilter,
    *,
    limit: int = 50,
    older_than: int | None = None,
    newer_than: int | None = None,
) -> RecordsPage:
    """One page newest first: the first page, the page after `older_than` (a log index, going
    back in time) or the page before `newer_than` (going forward)."""
    query = select(_TABLE).where(*conditions(where))
    if newer_than is not None:
        query = query.where(_F.log_index > newer_than).order_by(_F.log_index.asc())
    else:
        if older_than is not None:
            query = query.where(_F.log_index < older_than)
        query = query.order_by(_F.log_index.desc())
    rows = [summary_from_row(row._mapping) for row in connection.execute(query.limit(limit + 1))]
    more = len(rows) > limit
    rows = rows[:limit]
    if newer_than is not None:
        rows.reverse()
        newer = rows[0].log_index if more and rows else None
        older = rows[-1].log_index if rows else None
    else:
        older = rows[-1].log_index if more else None
        newer = rows[0].log_index if older_than is not None and rows else None
    return RecordsPage(
        records=tuple(rows), total=count_records(connection, where), older=older, newer=newer
    )


def records_by_id(connection: Connection, ids: list[str]) -> dict[str, RecordSummary]:
    """The records of `ids` that exist, by id."""
    out: dict[str, RecordSummary] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        query = select(_TABLE).where(_F.record_id.in_(chunk))
        for row in connection.execute(query):
            summary = summary_from_row(row._mapping)
            out[summary.record_id] = summary
    return out
