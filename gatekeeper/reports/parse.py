"""One entry point per file: detect the format from content, then run that format's parser."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gatekeeper.errors import ReportError
from gatekeeper.reports.clover import parse_clover
from gatekeeper.reports.cobertura import parse_cobertura
from gatekeeper.reports.coveragepy import parse_coveragepy
from gatekeeper.reports.detect import detect_format, guess_producer, read_head
from gatekeeper.reports.gocover import parse_gocover
from gatekeeper.reports.jacoco import parse_jacoco
from gatekeeper.reports.junit import parse_junit
from gatekeeper.reports.lcov import parse_lcov
from gatekeeper.reports.model import CoverageResult, ParsedReport

_CoverageParser = Callable[[Path], tuple[CoverageResult, bool]]

_COVERAGE_PARSERS: dict[str, _CoverageParser] = {
    "cobertura": parse_cobertura,
    "lcov": parse_lcov,
    "jacoco": parse_jacoco,
    "clover": parse_clover,
    "coveragepy-json": parse_coveragepy,
    "go-coverprofile": parse_gocover,
}


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
        report.tests = parse_junit(path)
    else:
        try:
            report.coverage, report.has_branches = _COVERAGE_PARSERS[report_format](path)
        except (ValueError, OverflowError) as error:
            raise ReportError(path, f"invalid value: {error}") from None
    return report
