"""The report as PDF: the HTML document laid out by WeasyPrint, the period's export bundle
attached. The only module that imports WeasyPrint (it needs Pango: docs/service.md)."""

from __future__ import annotations

from typing import Any, NoReturn

from gatekeeper.errors import ServiceError
from gatekeeper.service.report.html import render_html
from gatekeeper.service.report.model import AuditReport

__all__ = ["PdfUnavailableError", "render_pdf"]


class PdfUnavailableError(ServiceError):
    """WeasyPrint or a system library it loads (Pango, HarfBuzz) is missing."""


def _no_fetching(url: str, *args: Any, **kwargs: Any) -> NoReturn:
    """The document needs nothing from outside: a URL in it is never fetched."""
    raise ValueError(f"the report fetches nothing ({url[:60]})")


def render_pdf(report: AuditReport, base_url: str) -> bytes:
    """The PDF of `report`, its export bundle attached when it has one."""
    try:
        import weasyprint  # noqa: PLC0415 - Pango loads on the first PDF, not with the service
    except (ImportError, OSError) as error:
        raise PdfUnavailableError(
            f"PDF reports need WeasyPrint and its system libraries (docs/service.md): {error}"
        ) from error

    html = render_html(report, base_url, paper=True)
    attachments = []
    if report.verification is not None and report.bundle:
        attachments.append(
            weasyprint.Attachment(
                string=report.bundle,
                name=report.verification.bundle_name,
                description="Export bundle for gatekeeper verify",
            )
        )
    document = weasyprint.HTML(string=html, url_fetcher=_no_fetching)
    pdf: bytes = document.write_pdf(attachments=attachments)
    return pdf
