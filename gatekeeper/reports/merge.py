"""Several reports into one set of facts: tests summed, coverage of a file merged by summing hits
(after its key is made a repository path; one run given twice counts once).

A test id (classname and name) that failed in one file and passed in another file of a format
that compares ids the same way is passed and flaky: its failed run is dropped from the counts, so
the test counts once, as passed. Each format says in its registry descriptor how its ids are
looked up (`ReportFormat.passed_ids`); formats are never compared with each other. Files that
fail nowhere are never re-read; the passing runs are looked up by a second streaming pass over
the other files of the format, only for the ids that failed, so memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gatekeeper.reports.coverage_paths import repository_paths
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


@dataclass(slots=True)
class MergedCoverage:
    """Coverage of every coverage report, keyed by repository path, and what to tell the user."""

    result: CoverageResult
    has_branches: bool
    warnings: list[str] = field(default_factory=list)


def _same_run(first: CoverageResult, second: CoverageResult) -> int:
    """How many files two reports share when every shared file has identical line data, else 0."""
    shared = first.files.keys() & second.files.keys()
    if all(first.files[key].same_lines(second.files[key]) for key in shared):
        return len(shared)
    return 0


def merge_coverage(
    reports: Sequence[ParsedReport], *, root: str | None = None, anchors: Iterable[str] = ()
) -> MergedCoverage | None:
    """Coverage of every coverage report merged per repository path (hits summed), or None.

    File keys are mapped to repository paths first (`repository_paths`, with `root` and the
    diff's paths as `anchors`). Two reports whose shared files all carry identical line data are
    one run given twice (Cobertura and coverage.py JSON of the same `coverage run`): the second
    is merged without adding its hits, and a warning says so.
    """
    parsed = [r for r in reports if r.coverage is not None]
    if not parsed:
        return None
    keys = {key for r in parsed if r.coverage for key in r.coverage.files}
    mapped = repository_paths(keys, root=root, anchors=anchors)
    results: list[CoverageResult] = []
    for report in parsed:
        result = CoverageResult()
        for key, coverage in report.coverage.files.items() if report.coverage else ():
            result.add(mapped[key], coverage)
        results.append(result)
    merged = MergedCoverage(CoverageResult(), any(r.has_branches for r in reports))
    for index, result in enumerate(results):
        repeats = next(
            ((other, n) for other in range(index) if (n := _same_run(results[other], result))),
            None,
        )
        if repeats is not None:
            other, count = repeats
            merged.warnings.append(
                f"{parsed[index].location} and {parsed[other].location} describe the same "
                f"{count} file(s) of the same run (identical line data): counted once"
            )
        for key, coverage in result.files.items():
            merged.result.add(key, coverage, same_report=repeats is not None)
    return merged
