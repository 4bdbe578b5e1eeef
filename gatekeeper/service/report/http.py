"""The report over HTTP, shared by the API route and the page route: the query parameters, who
may read the project, and the download response (safe file name, security headers)."""

# no `from __future__ import annotations`: FastAPI reads the dataclass fields' Query() at
# run time from its signature.
import base64
import datetime as dt
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import Query, Request, Response

from gatekeeper.service.auth import Principal
from gatekeeper.service.deps import ServiceContext, checked_project
from gatekeeper.service.pages.security import HEADERS
from gatekeeper.service.problems import ApiError
from gatekeeper.service.projects import PROJECT_MAX_LENGTH
from gatekeeper.service.report.assemble import build_report, project_exists
from gatekeeper.service.report.html import render_html, report_css
from gatekeeper.service.report.model import AuditReport, Format, ReportRequest
from gatekeeper.service.report.pdf import PdfUnavailableError, render_pdf
from gatekeeper.service.report.table import render_csv
from gatekeeper.service.summaries import service_base
from gatekeeper.service.workspace.filters import Kind, RecordFilter

__all__ = ["MAX_SAMPLE", "ReportQuery", "report_file_name", "report_response"]

MAX_SAMPLE = 1000
_MEDIA = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
}
_log = logging.getLogger(__name__)
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class ReportQuery:
    """The report's query parameters (a FastAPI dependency: FastAPI answers 422 for a bad one)."""

    project: Annotated[
        str, Query(max_length=PROJECT_MAX_LENGTH, description="The project (owner/name).")
    ]
    since: Annotated[
        dt.date | None, Query(description="First day of the period (YYYY-MM-DD, UTC).")
    ] = None
    until: Annotated[
        dt.date | None,
        Query(description="Last day of the period, included (YYYY-MM-DD, UTC)."),
    ] = None
    format: Annotated[
        Literal["html", "pdf", "csv"],
        Query(description="`html` (shown inline), `pdf` (the bundle attached) or `csv`."),
    ] = "html"
    verdict: Annotated[Literal["pass", "fail"] | None, Query(description="Gate result.")] = None
    outcome: Annotated[
        Literal["waived"] | None, Query(description="`waived`: passed through a waiver.")
    ] = None
    rule: Annotated[
        str | None, Query(max_length=100, description="A rule id that failed or was waived.")
    ] = None
    ref_prefix: Annotated[
        str | None, Query(max_length=300, description="Git ref prefix, e.g. `refs/tags/`.")
    ] = None
    policy: Annotated[
        str | None, Query(max_length=200, description="Policy name, `name@version` or digest.")
    ] = None
    change: Annotated[str | None, Query(max_length=32, description="PR/MR number.")] = None
    author: Annotated[str | None, Query(max_length=200, description="Change author.")] = None
    kind: Annotated[Kind | None, Query(description="Kind of evidence (`release`...).")] = None
    sample: Annotated[
        int | None,
        Query(ge=1, le=MAX_SAMPLE, description="Draw this many records at random (seeded)."),
    ] = None
    seed: Annotated[
        str | None,
        Query(
            max_length=100,
            description="The sample's seed (the same seed draws the same records); a random "
            "one, named in the report, when absent.",
        ),
    ] = None

    def to_request(self) -> ReportRequest:
        """The checked request; 422 for a bad project or a period that ends before it starts."""
        project = checked_project(self.project) or ""
        if self.since and self.until and self.until < self.since:
            raise ApiError(422, f"until {self.until} is before since {self.since}")
        if self.seed is not None and self.sample is None:
            raise ApiError(422, "seed: give sample=N too (the number of records to draw)")
        where = RecordFilter(
            verdict=self.verdict,
            waived=True if self.outcome == "waived" else None,
            rule=self.rule or None,
            ref_prefix=self.ref_prefix or None,
            policy=self.policy or None,
            change_id=self.change or None,
            author=self.author or None,
            kind=self.kind,
        )
        seed = self.seed or (secrets.token_hex(4) if self.sample else None)
        return ReportRequest(
            project=project,
            since=self.since,
            until=self.until,
            where=where,
            sample_size=self.sample,
            seed=seed,
        )


def report_file_name(request: ReportRequest, fmt: Format) -> str:
    """`gatekeeper-report-<project>-<since>-<until>.<fmt>`, only letters, digits, `._-`."""
    since = request.since.isoformat() if request.since else "start"
    until = request.until.isoformat() if request.until else "now"
    stem = _UNSAFE_NAME.sub("_", f"gatekeeper-report-{request.project}-{since}-{until}")
    return f"{stem.strip('._')[:150]}.{fmt}"


def _csp(css: str) -> str:
    """The pages' policy, but allowing exactly the report's one inline stylesheet."""
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return (
        f"default-src 'none'; style-src 'sha256-{digest}'; img-src 'self'; form-action 'none'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


def _pdf(report: AuditReport, base: str) -> bytes:
    try:
        return render_pdf(report, base)
    except PdfUnavailableError as error:
        _log.error("%s", error)
        raise ApiError(
            503, "PDF reports are not available on this service: ask for html or csv"
        ) from None


def _downloads(request: Request) -> dict[str, str]:
    """Links to the same report as PDF and CSV: this path and query, another format."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "format"]
    return {
        label: f"{request.url.path}?{urlencode([*kept, ('format', fmt)])}"
        for label, fmt in (("PDF", "pdf"), ("CSV", "csv"))
    }


def report_response(
    context: ServiceContext, principal: Principal, query: ReportQuery, request: Request
) -> Response:
    """The report of `query` in its format; 404 for a project the reader may not see or the
    service does not know (the same answer, so a name never reveals a project)."""
    wanted = query.to_request()
    with context.engine.connect() as connection:
        known = principal.covers(wanted.project) and project_exists(connection, wanted.project)
    if not known:
        raise ApiError(404, f"no project {wanted.project} is readable with this token")
    base = service_base(context.settings.public_url, str(request.base_url))
    report = build_report(context, wanted, base)
    name = report_file_name(wanted, query.format)
    headers = HEADERS | {"Cache-Control": "no-store"}
    if query.format == "html":
        body: bytes = render_html(report, base, downloads=_downloads(request)).encode()
        headers |= {
            "Content-Security-Policy": _csp(report_css()),
            "Content-Disposition": f'inline; filename="{name}"',
        }
    else:
        body = _pdf(report, base) if query.format == "pdf" else render_csv(report).encode()
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return Response(body, media_type=_MEDIA[query.format], headers=headers)
