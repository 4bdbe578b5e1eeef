"""`/v1/report`: the audit report of one project and period, as HTML, PDF or CSV."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from gatekeeper.service.deps import Context, Reader
from gatekeeper.service.records import ErrorOut
from gatekeeper.service.report.http import ReportQuery, report_response

router = APIRouter(prefix="/v1/report", tags=["report"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (401, 403, 404, 422, 503)
}


@router.get(
    "",
    response_class=Response,
    responses={
        200: {
            "content": {"text/html": {}, "application/pdf": {}, "text/csv": {}},
            "description": "The report in the asked format (PDF and CSV as a download).",
        },
        **_ERRORS,
    },
    summary="The audit report of a project and period",
)
def get_report(
    request: Request,
    context: Context,
    principal: Reader,
    query: Annotated[ReportQuery, Depends()],
) -> Response:
    """For ISO 9001 audits: cover, policy versions in force, every change and release with its
    evidence (verdict, waived mark, approvers, what the service confirmed), the nonconformity and
    concession registers, weekly trends, the clause table, the seeded sample if `sample` is given,
    and how to verify offline (the period's export bundle and its SHA-256; the PDF carries the
    bundle as an attachment). `format=csv`: one row per record. The same filters as
    `GET /v1/evidence`; 404 for a project this token may not read or the service does not know."""
    return report_response(context, principal, query, request)
