"""The audit report of one project and period (ISO 9001): `build_report` assembles the typed
`AuditReport` from the workspace queries and the export bundle; `render_html`, `render_pdf`
(WeasyPrint) and `render_csv` turn it into documents; `http` serves it to the API and the pages.
"""

from __future__ import annotations

from gatekeeper.service.report.assemble import build_report, project_exists
from gatekeeper.service.report.html import render_html
from gatekeeper.service.report.model import AuditReport, ReportRequest
from gatekeeper.service.report.pdf import render_pdf
from gatekeeper.service.report.table import render_csv

__all__ = [
    "AuditReport",
    "ReportRequest",
    "build_report",
    "project_exists",
    "render_csv",
    "render_html",
    "render_pdf",
]
