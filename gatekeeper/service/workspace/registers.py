"""The two registers: nonconformities with their corrections (10.2) and concessions (8.7)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from gatekeeper.service.tables import RecordFacetRow
from gatekeeper.service.workspace.filters import RecordFilter, conditions
from gatekeeper.service.workspace.models import (
    Concession,
    Nonconformity,
    RecordSummary,
    summary_from_row,
)

__all__ = ["EXPIRING_DAYS", "concessions", "corrected_failures", "correction_of", "nonconformities"]

EXPIRING_DAYS = 14
"""A concession expiring within this many days is marked."""

_F = RecordFacetRow
_TABLE = RecordFacetRow.__table__


def _change_key(record: RecordSummary) -> tuple[str, str, str] | None:
    """Records of one change: the same project and PR/MR (or, without one, the same ref)."""
    if record.change_id is not None:
        return (record.project, "change", record.change_id)
    if record.ref is not None:
        return (record.project, "ref", record.ref)
    return None


def _passes_after(
    connection: Connection, failed: list[RecordSummary]
) -> dict[tuple[str, str, str], list[RecordSummary]]:
    keys = {key for key in map(_change_key, failed) if key is not None}
    if not keys:
        return {}
    lowest = min(record.log_index for record in failed)
    projects = sorted({key[0] for key in keys})
    changes = sorted({key[2] for key in keys if key[1] == "change"})
    refs = sorted({key[2] for key in keys if key[1] == "ref"})
    out: dict[tuple[str, str, str], list[RecordSummary]] = {}
    for start in range(0, max(len(changes), len(refs)), 400):
        query = (
            select(_TABLE)
            .where(_F.project.in_(projects), _F.verdict == "pass", _F.log_index > lowest)
            .where(
                or_(
                    _F.change_id.in_(changes[start : start + 400]),
                    (_F.change_id.is_(None)) & _F.ref.in_(refs[start : start + 400]),
                )
            )
            .order_by(_F.log_index)
        )
        for row in connection.execute(query):
            record = summary_from_row(row._mapping)
            key = _change_key(record)
            if key in keys:
                out.setdefault(key, []).append(record)
    return out


def _correction(
    record: RecordSummary, passes: dict[tuple[str, str, str], list[RecordSummary]]
) -> RecordSummary | None:
    key = _change_key(record)
    for candidate in passes.get(key, []) if key is not None else []:
        if candidate.log_index > record.log_index and candidate.commit != record.commit:
            return candidate
    return None


def nonconformities(connection: Connection, where: RecordFilter) -> tuple[Nonconformity, ...]:
    """Every failed record the filter selects, newest first, each with the first later passing
    record of the same change at another head commit, or none (open)."""
    failed_filter = where.model_copy(update={"verdict": "fail"})
    query = select(_TABLE).where(*conditions(failed_filter)).order_by(_F.log_index.desc())
    failed = [summary_from_row(row._mapping) for row in connection.execute(query)]
    passes = _passes_after(connection, failed)
    return tuple(Nonconformity(failed=r, correction=_correction(r, passes)) for r in failed)


def correction_of(connection: Connection, record: RecordSummary) -> RecordSummary | None:
    """The record that corrected a failed `record`, if one did."""
    if record.verdict != "fail":
        return None
    return _correction(record, _passes_after(connection, [record]))


def corrected_failures(connection: Connection, record: RecordSummary) -> tuple[RecordSummary, ...]:
    """The failed records that passing `record` corrected (it is their first later pass)."""
    key = _change_key(record)
    if record.verdict != "pass" or key is None:
        return ()
    query = select(_TABLE).where(
        _F.project == record.project, _F.verdict == "fail", _F.log_index < record.log_index
    )
    query = query.where(_F.change_id == key[2] if key[1] == "change" else _F.ref == key[2])
    failed = [summary_from_row(row._mapping) for row in connection.execute(query)]
    passes = _passes_after(connection, failed)
    return tuple(
        sorted(
            (
                f
                for f in failed
                if (c := _correction(f, passes)) and c.record_id == record.record_id
            ),
            key=lambda f: f.log_index,
            reverse=True,
        )
    )


def _state(expires: dt.date, today: dt.date) -> str:
    if expires < today:
        return "expired"
    if expires <= today + dt.timedelta(days=EXPIRING_DAYS):
        return "expiring"
    return "active"


def concessions(
    connection: Connection, where: RecordFilter, today: dt.date | None = None
) -> tuple[Concession, ...]:
    """Every waiver applied in the records the filter selects, once per (project, rule, approver,
    expiry, ticket, reason), with the records it let pass; soonest expiry first."""
    today = today or dt.datetime.now(dt.UTC).date()
    query = (
        select(_TABLE).where(*conditions(where), _F.waivers != "[]").order_by(_F.log_index.desc())
    )
    grouped: dict[tuple[object, ...], list[str]] = {}
    for row in connection.execute(query):
        record = summary_from_row(row._mapping)
        for waiver in record.waivers:
            if waiver.status != "applied":
                continue
            key = (
                record.project,
                waiver.rule,
                waiver.approved_by,
                waiver.expires,
                waiver.ticket,
                waiver.reason,
            )
            grouped.setdefault(key, [])
            if record.record_id not in grouped[key]:
                grouped[key].append(record.record_id)
    out = [
        Concession(
            project=str(key[0]),
            rule=str(key[1]),
            approved_by=str(key[2]),
            expires=key[3],
            ticket=key[4],
            reason=key[5],
            records=tuple(ids),
            state=_state(key[3], today),  # type: ignore[arg-type]
        )
        for key, ids in grouped.items()
    ]
    return tuple(sorted(out, key=lambda c: (c.expires, c.project, c.rule)))
