"""One entry point per file: detect the format from content, then run that format's parser."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gatekeeper.reports.detect import detect_format, guess_producer, read_head
from gatekeeper.reports.model import CoverageResult, ParsedReport

_CoverageParser = Callable[[Path], tuple[CoverageResult, bool]]


def _coverage_parser(report_format: str) -> _CoverageParser:
    # Imported on demand so that `inspect` of one format loads only that parser.
    if report_format == "cobertura":
        from gatekeeper.reports.cobertura import parse_cobertura

        return parse_cobertura
    if report_format == "lcov":
        from gatekeeper.reports.lcov import parse_lcov

        return parse_lcov
    if report_format == "jacoco":
        from gatekeeper.reports.jacoco import parse_jacoco

        return parse_jacoco
    if report_format == "clover":
        from gatekeeper.reports.clover import parse_clover

        return parse_clover
    if report_format == "coveragepy-json":
        from gatekeeper.reports.coveragepy import parse_coveragepy

        return parse_coveragepy
    from gatekeeper.reports.gocover import parse_gocover

    return parse_gocover


def parse_report(path: Path, *, location: str | None = None) -> ParsedReport:
    """Parse one report file of any supported format; ReportError names what is wrong."""
    head = read_head(path)
    report_format = detect_format(path, head)
    report = ParsedReport(
        location=location or str(path),
        format=report_format,
        producer=guess_producer(head, report_format),
    )
    del head
    if report_format == "junit":
        from gatekeeper.reports.junit import parse_junit

        report.tests = parse_junit(path)
    else:
        report.coverage, report.has_branches = _coverage_parser(report_format)(path)
    return report
