"""The two registers: nonconformities with their correction or "open" (10.2), and concessions
with approver, reason, expiry, ticket and the records each let pass (8.7)."""

from __future__ import annotations

import datetime as dt

from fastapi import Request
from fastapi.responses import HTMLResponse

from gatekeeper.service.deps import Db
from gatekeeper.service.pages.params import PageFilters
from gatekeeper.service.pages.queries import readable_projects
from gatekeeper.service.pages.routes import Viewer, render, router
from gatekeeper.service.workspace.listing import records_by_id
from gatekeeper.service.workspace.registers import EXPIRING_DAYS, concessions, nonconformities

__all__ = ["concessions_page", "nonconformities_page"]

_STATES = {
    "expired": "expired",
    "expiring": f"expires within {EXPIRING_DAYS} days",
    "active": "active",
}


@router.get("/registers/nonconformities")
def nonconformities_page(request: Request, connection: Db, viewer: Viewer) -> HTMLResponse:
    """Every failed gate the filters select, newest first, with its correction or "open"."""
    filters = PageFilters.from_query(request.query_params)
    found = nonconformities(connection, filters.record_filter(viewer))
    return render(
        request,
        "nonconformities.html",
        filters=filters,
        projects=readable_projects(connection, viewer),
        items=found,
        open_count=sum(1 for item in found if item.correction is None),
    )


@router.get("/registers/concessions")
def concessions_page(request: Request, connection: Db, viewer: Viewer) -> HTMLResponse:
    """Every waiver applied in the selected records, soonest expiry first."""
    filters = PageFilters.from_query(request.query_params)
    today = dt.datetime.now(dt.UTC).date()
    found = concessions(connection, filters.record_filter(viewer), today)
    passed = records_by_id(connection, sorted({i for item in found for i in item.records}))
    return render(
        request,
        "concessions.html",
        filters=filters,
        projects=readable_projects(connection, viewer),
        items=found,
        passed=passed,
        states=_STATES,
        today=today.isoformat(),
    )
