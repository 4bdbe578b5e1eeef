"""One coverage run given in two formats counts once; a stale coverage report fails closed."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from gatekeeper.reports import changed_lines, parse_report, reports_to_facts
from gatekeeper.reports.coverage_paths import repository_paths
from tests.cli import run_gatekeeper

SHOP = """\
def total(prices, discount=0):
    result = 0
    for price in prices:
        if price < 0:
            raise ValueError("negative price")
        result += price
    if discount:
        result -= result * discount
    return result


def unused(x):
    if x:
        return 1
    return 2
"""
TEST = "from pkg.shop import total\n\n\ndef test_total():\n    assert total([1, 2]) == 3\n"


@pytest.fixture(scope="module")
def one_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository with coverage.py's Cobertura and JSON reports of one `coverage run`."""
    repo = tmp_path_factory.mktemp("repo")
    (repo / "pkg").mkdir()
    (repo / "pkg" / "__init__.py").write_text("")
    (repo / "pkg" / "shop.py").write_text(SHOP)
    (repo / "test_shop.py").write_text(TEST)
    coverage = [sys.executable, "-m", "coverage"]
    commands = [
        [
            *coverage,
            "run",
            "--branch",
            "--source=pkg",
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            "test_shop.py",
        ],
        [*coverage, "xml", "-q", "-o", "coverage.xml"],
        [*coverage, "json", "-q", "-o", "coverage.json"],
    ]
    for command in commands:
        subprocess.run(command, cwd=repo, check=True, capture_output=True)
    return repo


def _counts(facts_coverage: object) -> tuple[object, ...]:
    return tuple(
        getattr(facts_coverage, name)
        for name in ("lines_valid", "lines_covered", "branches_valid", "branches_covered")
    )


def test_cobertura_names_files_by_its_absolute_source(one_run: Path) -> None:
    """The Cobertura report of the run names files under an absolute <source>, the JSON does not
    (the shape that made one run count twice)."""
    assert f"<source>{one_run}</source>" in (one_run / "coverage.xml").read_text()
    assert "pkg/shop.py" in json.loads((one_run / "coverage.json").read_text())["files"]


@pytest.mark.parametrize("root", ["repository", "elsewhere"])
def test_one_run_in_two_formats_counts_each_line_once(
    one_run: Path, root: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Cobertura and coverage.py JSON of one run give the figures of either alone, with a warning
    naming both files, whether or not the repository root is known."""
    cobertura = parse_report(one_run / "coverage.xml")
    alone = reports_to_facts([parse_report(one_run / "coverage.xml")]).coverage
    with caplog.at_level(logging.WARNING):
        both = reports_to_facts(
            [cobertura, parse_report(one_run / "coverage.json")],
            root=one_run if root == "repository" else None,
        ).coverage
    assert alone is not None
    assert both is not None
    assert _counts(both) == _counts(alone) == (13, 8, 8, 4)
    assert "coverage.json and" in caplog.text
    assert "coverage.xml describe the same 2 file(s)" in (caplog.text)


def test_one_run_twice_has_the_patch_coverage_of_one(one_run: Path) -> None:
    """Patch coverage over both reports of one run counts each changed line once."""
    diff = changed_lines(
        "--- a/pkg/shop.py\n+++ b/pkg/shop.py\n@@ -11,0 +12,4 @@\n+a\n+b\n+c\n+d\n"
    )
    reports = [parse_report(one_run / name) for name in ("coverage.xml", "coverage.json")]
    patch = reports_to_facts(reports, changed=diff, root=one_run).coverage
    assert patch is not None
    assert patch.patch is not None
    assert (patch.patch.lines_valid, patch.patch.lines_covered) == (4, 1)  # `def unused` ran


def test_inspect_warns_when_one_run_is_given_twice(one_run: Path) -> None:
    """`gatekeeper inspect` run in the repository prints the run's figures once and the warning."""
    result = run_gatekeeper(
        "inspect", "coverage.xml", "coverage.json", "--format", "json", cwd=one_run
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["coverage"]["lines_valid"] == 13
    assert "describe the same 2 file(s) of the same run" in result.stderr


def _cobertura(path: Path, source: str, hits: dict[int, int]) -> Path:
    body = "".join(f'<line number="{n}" hits="{h}"/>' for n, h in hits.items())
    path.write_text(
        f"<coverage><sources><source>{source}</source></sources><packages><package><classes>"
        f'<class filename="pkg/mod.py"><lines>{body}</lines></class>'
        "</classes></package></packages></coverage>"
    )
    return path


def test_two_runs_of_one_file_still_sum_without_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Two different runs (unit, integration) of one file merge their hits and warn of nothing."""
    unit = _cobertura(tmp_path / "unit.xml", "/ci/work/app", {1: 1, 2: 0, 3: 0})
    integration = _cobertura(tmp_path / "it.xml", "/other/checkout", {1: 0, 2: 3, 3: 0})
    with caplog.at_level(logging.WARNING):
        coverage = reports_to_facts(
            [parse_report(unit), parse_report(integration)],
            changed={"pkg/mod.py": {1, 2, 3}},
        ).coverage
    assert coverage is not None
    assert (coverage.lines_valid, coverage.lines_covered) == (3, 2)
    assert "same run" not in caplog.text


def test_repository_paths_picks_the_longest_known_suffix() -> None:
    """An absolute path becomes the longest relative path it ends with; unknown ones stay."""
    mapped = repository_paths(
        ["/ci/app/src/pkg/mod.py", "C:\\ci\\app\\src\\pkg\\mod.py", "/x/other.py", "./pkg/a.py"],
        root="/",
        anchors=["pkg/mod.py", "src/pkg/mod.py", "mod.py"],
    )
    assert mapped == {
        "/ci/app/src/pkg/mod.py": "src/pkg/mod.py",
        "C:\\ci\\app\\src\\pkg\\mod.py": "src/pkg/mod.py",
        "/x/other.py": "/x/other.py",
        "./pkg/a.py": "pkg/a.py",
    }


STALE_DIFF = "--- a/pkg/mod.py\n+++ b/pkg/mod.py\n@@ -40,0 +41,3 @@\n+x = 1\n+y = 2\n+z = 3\n"


def test_stale_coverage_makes_patch_coverage_missing(tmp_path: Path) -> None:
    """A report with data for none of the changed lines of a file it measures leaves
    coverage.patch missing with a reason, not 0 lines."""
    report = _cobertura(tmp_path / "old.xml", ".", {1: 1, 2: 1, 3: 0})
    facts = reports_to_facts([parse_report(report)], changed=changed_lines(STALE_DIFF))
    assert facts.coverage is not None
    assert facts.coverage.patch is None
    reason = facts.missing["coverage.patch"]
    assert "any of the 3 added or changed line(s) of the 1 changed file(s)" in reason
    assert "another commit" in reason


def test_a_change_outside_the_measured_files_still_skips(tmp_path: Path) -> None:
    """A diff that touches only files no report measures (docs) has 0 patch lines, not missing."""
    report = _cobertura(tmp_path / "cov.xml", ".", {1: 1})
    diff = "--- a/README.md\n+++ b/README.md\n@@ -1,0 +2 @@\n+more\n"
    facts = reports_to_facts([parse_report(report)], changed=changed_lines(diff))
    assert facts.coverage is not None
    assert facts.coverage.patch is not None
    assert facts.coverage.patch.lines_valid == 0
    assert "coverage.patch" not in facts.missing


POLICY = """\
version: 1
name: patch
rules:
  - id: patch-coverage
    metric: coverage.patch.rate
    op: ">="
    threshold: 0.8
"""


@pytest.mark.parametrize(
    ("diff", "code", "words"),
    [
        (STALE_DIFF, 1, "likely from another commit"),
        ("--- a/README.md\n+++ b/README.md\n@@ -1,0 +2 @@\n+more\n", 0, "does not apply"),
    ],
    ids=["stale-fails", "docs-only-skips"],
)
def test_evaluate_fails_closed_on_a_stale_report(
    tmp_path: Path, diff: str, code: int, words: str
) -> None:
    """`gatekeeper evaluate` exits 1 naming the stale report, where a docs-only change exits 0."""
    (tmp_path / "policy.yml").write_text(POLICY)
    (tmp_path / "change.diff").write_text(diff)
    _cobertura(tmp_path / "cov.xml", ".", {1: 1, 2: 1, 3: 0})
    result = run_gatekeeper(
        "evaluate",
        "--policy",
        "policy.yml",
        "--report",
        "cov.xml",
        "--diff",
        "change.diff",
        "--no-feedback",
        cwd=tmp_path,
    )
    assert result.returncode == code, result.stdout + result.stderr
    assert words in result.stdout
