"""coverage.py JSON (``coverage json``): executed lines are covered, missing lines are not;
branches from ``executed_branches``/``missing_branches`` by their source line. The ``totals``
and per-file ``summary`` blocks are never read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gatekeeper.errors import ReportError
from gatekeeper.reports._json import decode_json
from gatekeeper.reports.model import CoverageResult, FileCoverage, ParsedReport, iter_numbers
from gatekeeper.reports.registry import Head, ReportFormat, register


def _load(path: Path) -> Any:
    with path.open("rb") as handle:
        return decode_json(path, handle.read())


def _branches(coverage: FileCoverage, pairs: object, covered: bool) -> None:
    if not isinstance(pairs, list):
        return
    for pair in pairs:
        if isinstance(pair, list) and pair and isinstance(pair[0], int):
            hit, valid = coverage.branches.get(pair[0], (0, 0))
            coverage.branches[pair[0]] = (hit + covered, valid + 1)


def _file(data: dict[str, Any]) -> tuple[FileCoverage, bool]:
    lines = dict.fromkeys(iter_numbers(data.get("missing_lines") or []), 0)
    lines.update(dict.fromkeys(iter_numbers(data.get("executed_lines") or []), 1))
    coverage = FileCoverage(lines)
    has_branches = "executed_branches" in data or "missing_branches" in data
    _branches(coverage, data.get("executed_branches"), covered=True)
    _branches(coverage, data.get("missing_branches"), covered=False)
    return coverage, has_branches


def parse_coveragepy(path: Path) -> tuple[CoverageResult, bool]:
    """Per-file coverage of one coverage.py JSON report and whether it carries branch data."""
    document = _load(path)
    files = document.get("files") if isinstance(document, dict) else None
    if not isinstance(files, dict):
        raise ReportError(path, 'coverage.py JSON without a "files" object')
    result = CoverageResult()
    has_branches = False
    for name, data in files.items():
        if not isinstance(data, dict):
            raise ReportError(path, f'"files"."{name}" is not an object')
        coverage, branches = _file(data)
        has_branches = has_branches or branches
        result.add(str(name).replace("\\", "/"), coverage)
    return result, has_branches


def _is_coveragepy(head: Head) -> bool:
    """coverage.py's JSON: an object with "files" and its "meta" or "totals"."""
    body = head.body
    return (
        body.startswith(b"{") and b'"files"' in body and (b'"meta"' in body or b'"totals"' in body)
    )


def _read(path: Path, report: ParsedReport) -> None:
    report.coverage, report.has_branches = parse_coveragepy(path)


register(
    ReportFormat(
        name="coveragepy-json",
        kind="coverage",
        title="coverage.py JSON",
        detect=_is_coveragepy,
        parse=_read,
        producer="coverage.py",
    )
)
