"""Several reports into one set of facts: tests summed, coverage of a file merged by summing hits.

A test id (classname and name) that failed in one file and passed in another file of a format
that compares ids the same way is passed and flaky: its failed run is dropped from the counts, so
the test counts once, as passed. Each format says in its registry descriptor how its ids are
looked up (`ReportFormat.passed_ids`); formats are never compared with each other. Files that
fail nowhere are never re-read; the passing runs are looked up by a second streaming pass over
the other files of the format, only for the ids that failed, so memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gatekeeper.reports.model import CoverageResult, ParsedReport, TestResult
from gatekeeper.reports.registry import PassedIds, lookup


def _sum_tests(results: Sequence[TestResult]) -> TestResult:
    merged = TestResult()
    for result in results:
        merged.total += result.total
        merged.passed += result.passed
        merged.failed += result.failed
        merged.errors += result.errors
        merged.skipped += result.skipped
        merged.flaky += result.flaky
        merged.duration_s += result.duration_s
        merged.failures.extend(result.failures)
        merged.flaky_tests.extend(result.flaky_tests)
        merged.skipped_tests.extend(result.skipped_tests)
    return merged


def _flaky_across_files(reports: Sequence[ParsedReport]) -> None:
    """Turn failures whose test passed in another file of the same format into flaky passes."""
    by_format: dict[str, tuple[PassedIds, list[ParsedReport]]] = {}
    for report in reports:
        if report.tests is None:
            continue
        passed_ids = lookup(report.format).passed_ids
        if passed_ids is not None:
            by_format.setdefault(report.format, (passed_ids, []))[1].append(report)
    for passed_ids, group in by_format.values():
        _flaky_in_group(group, passed_ids)


def _flaky_in_group(group: Sequence[ParsedReport], passed_ids: PassedIds) -> None:
    failed_by_file = [{f.test_id for f in r.tests.failures} if r.tests else set() for r in group]
    wanted = set().union(*failed_by_file) if failed_by_file else set()
    if len(group) < 2 or not wanted:
        return
    passed_elsewhere: list[set[str]] = [set() for _ in group]
    for index, report in enumerate(group):
        found = passed_ids(Path(report.location), wanted - failed_by_file[index])
        for other in range(len(group)):
            if other != index:
                passed_elsewhere[other] |= found
    for index, report in enumerate(group):
        tests = report.tests
        if tests is None or not passed_elsewhere[index]:
            continue
        kept = []
        for failure in tests.failures:
            if failure.test_id in passed_elsewhere[index]:
                tests.total -= 1
                tests.flaky += 1
                tests.flaky_tests.append(failure.test_id)
                if failure.kind == "error":
                    tests.errors -= 1
                else:
                    tests.failed -= 1
            else:
                kept.append(failure)
        tests.failures = kept


def merge_tests(reports: Sequence[ParsedReport]) -> TestResult | None:
    """The test results of every test report, summed, with flaky tests across files resolved."""
    _flaky_across_files(reports)
    results = [r.tests for r in reports if r.tests is not None]
    return _sum_tests(results) if results else None


def merge_coverage(reports: Sequence[ParsedReport]) -> tuple[CoverageResult | None, bool]:
    """Coverage of every coverage report merged per file (hits summed) and whether any had
    branch data."""
    results = [r.coverage for r in reports if r.coverage is not None]
    if not results:
        return None, False
    merged = CoverageResult()
    for result in results:
        for key, coverage in result.files.items():
            merged.add(key, coverage, same_report=False)
    return merged, any(r.has_branches for r in reports)
