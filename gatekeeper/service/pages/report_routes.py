"""`/ui/report`: the audit report for a signed-in auditor (the session cookie), with the same
parameters and documents as `GET /v1/report`; errors are HTML pages like the other pages'."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from gatekeeper.service.deps import Context
from gatekeeper.service.pages.routes import Viewer, _PageRoute
from gatekeeper.service.report.http import ReportQuery, report_response

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=_PageRoute)


@router.get("/report")
def report(
    request: Request,
    context: Context,
    viewer: Viewer,
    query: Annotated[ReportQuery, Depends()],
) -> Response:
    """The report of a project and period, as HTML, PDF or CSV (filters as on the records)."""
    return report_response(context, viewer, query, request)
