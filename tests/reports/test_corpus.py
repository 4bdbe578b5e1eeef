"""Every corpus file parses, and its figures match the `plain_count` rows of EXPECTED.tsv,
except where our semantics differ on purpose (the table of exceptions says why)."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.reports import parse_report, reports_to_facts
from tests.reports.conftest import find_corpus

# file -> {column: (our value, why we differ from the plain count)}
EXCEPTIONS: dict[str, dict[str, tuple[Any, str]]] = {
    "junit/multiresult_skip-fail-error.xml": {
        "failures": (1, "one outcome per testcase: error > failure > skipped"),
        "skipped": (1, "a testcase with a failure and a skip is failed, not also skipped"),
    },
    "junit/ctest-3.25_status-disabled-skip.xml": {
        "skipped": (2, 'status="disabled" without <skipped> counts as skipped'),
    },
    "junit/googletest_disabled.xml": {
        "skipped": (10, 'status="disabled" testcases count as skipped'),
    },
    "junit/jenkins_negative-duration.xml": {
        "time": (100.0, "a negative testcase time counts as 0"),
    },
    "clover/gcovr-8_exclude-line-branch.xml": {
        "lines_valid": (17, "a line listed twice in one report counts once (max hits)"),
        "line_rate": (15 / 17, "lines_valid is deduplicated"),
    },
}

_TEST_COLUMNS = {"tests": "total", "failures": "failed", "errors": "errors", "skipped": "skipped"}
_COVERAGE_COLUMNS = (
    "lines_valid",
    "lines_covered",
    "line_rate",
    "branches_valid",
    "branches_covered",
    "branch_rate",
)


def _rows() -> list[dict[str, str]]:
    corpus = find_corpus()
    if corpus is None:
        return []
    with (corpus / "EXPECTED.tsv").open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if r["method"] == "plain_count"]
    unique = {r["file"]: r for r in rows}
    return list(unique.values())


def _expected(row: dict[str, str], column: str) -> Any:
    override = EXCEPTIONS.get(row["file"], {}).get(column)
    if override is not None:
        return override[0]
    text = row[column]
    return None if text == "" else float(text)


def _close(actual: float | None, expected: float | None) -> bool:
    if expected is None:
        return True
    if actual is None:
        return expected == 0
    return math.isclose(actual, expected, rel_tol=1e-4, abs_tol=1e-4)


# without the corpus one placeholder row remains, so the corpus_dir fixture says why it skips
@pytest.mark.parametrize("row", _rows() or [{}], ids=lambda r: r.get("file", "no-corpus"))
def test_plain_count_figures_match(row: dict[str, str], corpus_dir: Path) -> None:
    """The parsed facts equal the independent plain count (or the documented exception)."""
    facts = reports_to_facts([parse_report(corpus_dir / row["file"])])
    if row["format"] == "junit":
        assert facts.tests is not None
        for column, field in _TEST_COLUMNS.items():
            assert getattr(facts.tests, field) == _expected(row, column), column
        assert _close(facts.tests.duration_s, _expected(row, "time"))
        counted = facts.tests.passed + facts.tests.failed + facts.tests.errors
        assert counted + facts.tests.skipped == facts.tests.total
    else:
        assert facts.coverage is not None
        for column in _COVERAGE_COLUMNS:
            assert _close(getattr(facts.coverage, column), _expected(row, column)), column


def test_every_corpus_report_parses(corpus_dir: Path) -> None:
    """Every test and coverage file in the corpus parses without an error."""
    folders = (
        "junit",
        "cobertura",
        "lcov",
        "jacoco",
        "clover",
        "coveragepy-json",
        "go-coverprofile",
    )
    files = [p for folder in folders for p in sorted((corpus_dir / folder).iterdir())]
    assert len(files) >= 66
    for path in files:
        report = parse_report(path)
        assert report.format == path.parent.name


def test_every_exception_is_used(corpus_dir: Path) -> None:
    """Each documented exception names a corpus file that the table test checks."""
    assert corpus_dir.is_dir()
    files = {r["file"] for r in _rows()}
    assert set(EXCEPTIONS) <= files


def test_the_same_run_agrees_across_formats(corpus_dir: Path) -> None:
    """coverage.py's Cobertura, LCOV and JSON of one measurement give the same facts."""
    names = (
        "cobertura/coveragepy-7.17_branch.xml",
        "lcov/coveragepy-7.17.info",
        "coveragepy-json/coveragepy-7.17_branch.json",
    )
    coverages = [reports_to_facts([parse_report(corpus_dir / n)]).coverage for n in names]
    assert len({(c.lines_valid, c.lines_covered, c.branches_valid) for c in coverages if c}) == 1
