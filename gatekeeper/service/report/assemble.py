"""`build_report`: the audit report of one project and period, from the workspace queries, the
period's records (read in batches) and the export bundle of the same period."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.engine import Connection

from gatekeeper.service._clock import utc_now
from gatekeeper.service.deps import ServiceContext
from gatekeeper.service.report.clauses import PeriodCounts, clause_table
from gatekeeper.service.report.evidence import period_records, release_line
from gatekeeper.service.report.in_force import policies_in_force
from gatekeeper.service.report.model import AuditReport, Cover, ReportRequest
from gatekeeper.service.report.verification import export_bundle
from gatekeeper.service.tables import PolicyRow, RecordFacetRow
from gatekeeper.service.workspace.filters import RecordFilter
from gatekeeper.service.workspace.registers import concessions, nonconformities
from gatekeeper.service.workspace.sample import sample_records
from gatekeeper.service.workspace.trends import weekly_trends

__all__ = ["build_report", "project_exists"]

_FILTER_NAMES = {
    "verdict": "verdict",
    "waived": "outcome",
    "rule": "rule",
    "ref_prefix": "ref prefix",
    "policy": "policy",
    "change_id": "PR/MR",
    "author": "author",
    "kind": "kind",
}


def project_exists(connection: Connection, project: str) -> bool:
    """Whether the service holds a record or a published policy of `project`."""
    for column in (RecordFacetRow.project, PolicyRow.project):
        if connection.execute(select(column).where(column == project).limit(1)).first():
            return True
    return False


def _filters(where: RecordFilter) -> tuple[tuple[str, str], ...]:
    out = []
    for field, label in _FILTER_NAMES.items():
        value = getattr(where, field)
        if value is not None:
            out.append((label, "waived" if field == "waived" else str(value)))
    return tuple(out)


def build_report(
    context: ServiceContext,
    request: ReportRequest,
    base_url: str,
    today: dt.date | None = None,
) -> AuditReport:
    """The report of `request` (the caller checked that the reader may see the project)."""
    generated_at = utc_now()
    today = today or dt.date.fromisoformat(generated_at[:10])
    where = request.record_filter()
    counts = PeriodCounts()
    with context.engine.connect() as connection:
        sample = None
        if request.sample_size:
            sample = sample_records(connection, where, request.sample_size, request.seed or "")
            counts.sampled = len(sample.records)
        chosen = frozenset(r.record_id for r in sample.records) if sample else frozenset()
        records = list(period_records(connection, where, chosen))
        policies = policies_in_force(connection, request.project, (r.line for r in records))
        register = nonconformities(connection, where)
        granted = concessions(connection, where, today)
        trends = weekly_trends(connection, where)
    for record in records:
        counts.add(record.line, dict(record.predicate))
    releases = tuple(line for line in map(release_line, records) if line is not None)
    counts.releases = len(releases)
    counts.releases_approved = sum(1 for release in releases if release.approvals)
    counts.nonconformities = len(register)
    counts.corrected = sum(1 for nc in register if nc.correction is not None)
    counts.concessions = len(granted)
    counts.weeks = len(trends)
    built = export_bundle(context, request, base_url)
    verification, bundle = built if built is not None else (None, b"")
    cover = Cover(
        project=request.project,
        since=request.since,
        until=request.until,
        generated_at=generated_at,
        service_key_id=context.store.signing_key().key_id,
        filters=_filters(request.where),
        records=counts.records,
        passed=counts.passed,
        failed=counts.failed,
        waived=counts.waived,
        releases=counts.releases,
    )
    return AuditReport(
        cover=cover,
        policies=policies,
        changes=tuple(r.line for r in records if r.line.record.kind != "release"),
        releases=releases,
        nonconformities=register,
        concessions=granted,
        trends=trends,
        clauses=clause_table(counts, verification.bundle_sha256 if verification else None),
        sample=sample,
        verification=verification,
        bundle=bundle,
    )
