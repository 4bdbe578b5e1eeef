"""The report as one HTML document: Jinja2 with autoescape, the stylesheet inlined, no script,
no font or asset from anywhere (the PDF is rendered from the same document)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import resources

from jinja2 import Environment, PackageLoader, StrictUndefined

from gatekeeper.service.report.charts import trend_charts
from gatekeeper.service.report.model import AuditReport

__all__ = ["period_text", "render_html", "report_css"]


@functools.cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("gatekeeper.service.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@functools.cache
def report_css() -> str:
    """The report's stylesheet (inlined: the HTML needs no other file)."""
    return resources.files(__package__ or "").joinpath("templates/report.css").read_text("utf-8")


def period_text(report: AuditReport) -> str:
    """The period in words, e.g. '2026-11-01 to 2026-11-30 (UTC days)'."""
    since, until = report.cover.since, report.cover.until
    start = since.isoformat() if since else "the first record"
    end = until.isoformat() if until else report.cover.generated_at[:10]
    return f"{start} to {end} (UTC, both days included)"


def render_html(
    report: AuditReport,
    base_url: str,
    *,
    paper: bool = False,
    downloads: Mapping[str, str] | None = None,
) -> str:
    """The report as HTML. `paper`: the document WeasyPrint lays out, its long lists as plain
    blocks of text (a table row costs it several times more, and each inline link or code box
    in an entry adds a third) and the bundle attached; `downloads`: links to the same report in
    other formats, by label."""
    return (
        _environment()
        .get_template("report.html")
        .render(
            report=report,
            c=report.cover,
            v=report.verification,
            charts=trend_charts(report.trends),
            period=period_text(report),
            base_url=base_url,
            css=report_css(),
            paper=paper,
            downloads=dict(downloads or {}),
        )
    )
