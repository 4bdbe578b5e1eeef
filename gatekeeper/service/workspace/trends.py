"""Trends per project and week (9.1.3), and the home page's summary of each project."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.engine import Connection

from gatekeeper.service._clock import format_time
from gatekeeper.service.tables import RecordFacetRow
from gatekeeper.service.workspace.filters import RecordFilter, conditions
from gatekeeper.service.workspace.models import ProjectSummary, TrendPoint, summary_from_row
from gatekeeper.service.workspace.registers import concessions, nonconformities

__all__ = ["project_summaries", "weekly_trends"]

_F = RecordFacetRow


def _week(integrated_at: str) -> dt.date:
    day = dt.date.fromisoformat(integrated_at[:10])
    return day - dt.timedelta(days=day.weekday())


def weekly_trends(connection: Connection, where: RecordFilter) -> tuple[TrendPoint, ...]:
    """One point per ISO week that has records, oldest first."""
    query = (
        select(_F.integrated_at, _F.verdict, _F.line_rate, _F.tests_total, _F.tests_flaky)
        .where(*conditions(where))
        .order_by(_F.log_index)
    )
    weeks: dict[dt.date, list[Sequence[object]]] = {}
    for row in connection.execute(query):
        weeks.setdefault(_week(str(row[0])), []).append(tuple(row))
    points = []
    for week in sorted(weeks):
        rows = weeks[week]
        passed = sum(1 for row in rows if row[1] == "pass")
        rates = [float(row[2]) for row in rows if isinstance(row[2], int | float)]
        totals = [int(row[3]) for row in rows if isinstance(row[3], int)]
        flaky = sum(int(row[4]) for row in rows if isinstance(row[4], int))
        points.append(
            TrendPoint(
                week=week,
                records=len(rows),
                passed=passed,
                pass_rate=passed / len(rows),
                line_rate=sum(rates) / len(rates) if rates else None,
                tests_total=totals[-1] if totals else None,
                tests_flaky=flaky,
            )
        )
    return tuple(points)


def project_summaries(
    connection: Connection, projects: Sequence[str], now: dt.datetime | None = None
) -> tuple[ProjectSummary, ...]:
    """Each project's latest record, its pass rate over 30 days, its open nonconformities and
    its active (not expired) concessions; projects sorted by name."""
    now = now or dt.datetime.now(dt.UTC)
    since = format_time(now - dt.timedelta(days=30))
    out = []
    for project in sorted(set(projects)):
        row = connection.execute(
            select(RecordFacetRow.__table__)
            .where(_F.project == project)
            .order_by(_F.log_index.desc())
            .limit(1)
        ).first()
        where = RecordFilter(projects=(project,))
        recent = [
            str(verdict)
            for verdict in connection.execute(
                select(_F.verdict).where(_F.project == project, _F.integrated_at >= since)
            ).scalars()
        ]
        open_count = sum(1 for nc in nonconformities(connection, where) if nc.correction is None)
        active = sum(1 for c in concessions(connection, where, now.date()) if c.state != "expired")
        out.append(
            ProjectSummary(
                project=project,
                latest=None if row is None else summary_from_row(row._mapping),
                pass_rate_30d=recent.count("pass") / len(recent) if recent else None,
                records_30d=len(recent),
                open_nonconformities=open_count,
                active_concessions=active,
            )
        )
    return tuple(out)
