"""One entry point per file: detect the format from content, then run that format's parser."""

from __future__ import annotations

from pathlib import Path

from gatekeeper.errors import ReportError
from gatekeeper.reports.detect import detect_report, guess_producer, read_head
from gatekeeper.reports.model import ParsedReport


def parse_report(path: Path, *, location: str | None = None) -> ParsedReport:
    """Parse one report file of any registered format; ReportError names what is wrong."""
    head = read_head(path)
    report_format = detect_report(path, head)
    report = ParsedReport(
        location=location or str(path),
        format=report_format.name,
        producer=guess_producer(head, report_format),
    )
    del head
    try:
        report_format.parse(path, report)
    except (ValueError, OverflowError) as error:
        raise ReportError(path, f"invalid value: {error}") from None
    return report
