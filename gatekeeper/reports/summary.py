"""Parsed reports as Facts: the pydantic models are built once, at the end."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from gatekeeper.facts import (
    SKIPPED_IDS_KEPT,
    Coverage,
    Facts,
    Finding,
    FindingLevels,
    Findings,
    PatchCoverage,
    Source,
    TestFailure,
    TestSummary,
    UncoveredLines,
)
from gatekeeper.reports.diff import ChangedLines, new_findings, patch_coverage
from gatekeeper.reports.merge import merge_coverage, merge_tests
from gatekeeper.reports.model import CoverageResult, FindingRecord, ParsedReport, TestResult

_log = logging.getLogger(__name__)

UNCOVERED_FILES_KEPT = 100
FINDINGS_KEPT = 1000


def _rate(covered: int, valid: int) -> float | None:
    return covered / valid if valid else None


def _skipped_ids(result: TestResult) -> tuple[str, ...]:
    """Every skipped test's id, sorted, or none when the reports do not name them all."""
    ids = result.skipped_tests
    if len(ids) != result.skipped or len(ids) > SKIPPED_IDS_KEPT:
        return ()
    return tuple(sorted(ids))


def _tests(result: TestResult) -> TestSummary:
    return TestSummary(
        total=result.total,
        passed=result.passed,
        failed=result.failed,
        errors=result.errors,
        skipped=result.skipped,
        flaky=result.flaky,
        duration_s=round(result.duration_s, 6),
        flaky_tests=tuple(dict.fromkeys(result.flaky_tests)),
        skipped_tests=_skipped_ids(result),
        failures=tuple(
            TestFailure(
                suite=f.suite,
                name=f.name,
                classname=f.classname,
                file=f.file,
                line=f.line,
                message=f.message,
                kind="error" if f.kind == "error" else "failure",
            )
            for f in result.failures
        ),
    )


def _patch(
    result: CoverageResult, changed: ChangedLines, missing: dict[str, str]
) -> PatchCoverage | None:
    found = patch_coverage(result, changed)
    if found.stale and found.reason is not None:
        missing["coverage.patch"] = found.reason
        return None
    if found.reason is not None:
        missing["coverage.patch.rate"] = found.reason
    return PatchCoverage(
        lines_valid=found.lines_valid,
        lines_covered=found.lines_covered,
        rate=found.rate,
        unmatched_paths=found.unmatched_paths,
        uncovered=tuple(
            UncoveredLines(file=path, ranges=ranges)
            for path, ranges in found.uncovered[:UNCOVERED_FILES_KEPT]
        ),
        uncovered_files=len(found.uncovered),
    )


def _coverage(
    result: CoverageResult,
    has_branches: bool,
    changed: ChangedLines | None,
    missing: dict[str, str],
) -> Coverage:
    lines_valid, lines_covered, branches_valid, branches_covered = result.totals()
    if not lines_valid:
        missing["coverage.line_rate"] = "the coverage reports measure no lines"
    if not has_branches:
        missing["coverage.branch_rate"] = "no coverage report carries branch data"
    elif not branches_valid:
        missing["coverage.branch_rate"] = "the coverage reports measure no branches"
    patch = _patch(result, changed, missing) if changed is not None else None
    return Coverage(
        lines_valid=lines_valid,
        lines_covered=lines_covered,
        line_rate=_rate(lines_covered, lines_valid),
        branches_valid=branches_valid if has_branches else None,
        branches_covered=branches_covered if has_branches else None,
        branch_rate=_rate(branches_covered, branches_valid) if has_branches else None,
        patch=patch,
    )


def _findings(records: Sequence[FindingRecord], changed: ChangedLines | None) -> Findings:
    levels = {"error": 0, "warning": 0, "note": 0}
    for record in records:
        levels[record.level] += 1
    return Findings(
        total=len(records),
        by_level=FindingLevels(**levels),
        new=new_findings(records, changed) if changed is not None else None,
        items=tuple(
            Finding(
                rule_id=r.rule_id,
                level=r.level,
                file=r.file,
                line=r.line,
                message=r.message,
            )
            for r in records[:FINDINGS_KEPT]
        ),
    )


def reports_to_facts(
    reports: Sequence[ParsedReport],
    *,
    changed: ChangedLines | None = None,
    root: Path | None = None,
) -> Facts:
    """Facts from parsed reports: tests, coverage and findings merged; patch coverage and new
    findings when a diff is given. `root` is the repository's directory: absolute coverage paths
    under it are compared as relative ones."""
    missing: dict[str, str] = {}
    for report in reports:
        for warning in report.tests.warnings if report.tests is not None else ():
            _log.warning("%s: %s", report.location, warning)
    tests = merge_tests(reports)
    if tests is None:
        missing["tests"] = "no JUnit XML report among the inputs"
    merged = merge_coverage(
        reports, root=str(root) if root is not None else None, anchors=changed or ()
    )
    coverage = None
    if merged is None:
        missing["coverage"] = "no coverage report among the inputs"
        if changed is not None:
            missing["coverage.patch"] = "patch coverage needs a coverage report"
    else:
        for warning in merged.warnings:
            _log.warning("%s", warning)
        coverage = _coverage(merged.result, merged.has_branches, changed, missing)
    sarif = [r.findings for r in reports if r.findings is not None]
    findings = None
    if not sarif:
        missing["findings"] = "no SARIF report among the inputs"
    else:
        findings = _findings([record for found in sarif for record in found.results], changed)
        if changed is None:
            missing["findings.new"] = "new findings need --diff FILE or --base REF"
    return Facts(
        tests=_tests(tests) if tests is not None else None,
        coverage=coverage,
        findings=findings,
        missing=missing,
        sources=tuple(
            Source(kind="report", location=r.location, format=r.format, producer=r.producer)
            for r in reports
        ),
    )
