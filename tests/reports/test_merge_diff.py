"""Merging several reports, flaky tests across files, and patch coverage from diffs and git."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from gatekeeper.errors import ReportError, UsageError
from gatekeeper.reports import (
    changed_lines,
    git_changed_lines,
    parse_report,
    reports_to_facts,
)


def _junit(tmp_path: Path, name: str, cases: str) -> Path:
    path = tmp_path / name
    path.write_text(f'<testsuites><testsuite name="s">{cases}</testsuite></testsuites>')
    return path


def _cobertura(tmp_path: Path, name: str, source: str, lines: dict[int, int]) -> Path:
    body = "".join(f'<line number="{n}" hits="{h}"/>' for n, h in lines.items())
    path = tmp_path / name
    path.write_text(
        f"<coverage><sources><source>{source}</source></sources><packages><package><classes>"
        f'<class filename="pkg/mod.py"><lines>{body}</lines></class>'
        "</classes></package></packages></coverage>"
    )
    return path


FAIL_A = '<testcase classname="c" name="a"><failure message="boom"/></testcase>'
PASS_A = '<testcase classname="c" name="a"/>'
PASS_B = '<testcase classname="c" name="b"/>'


def test_tests_of_several_files_are_summed(tmp_path: Path) -> None:
    """Counts of two JUnit files add up."""
    one = _junit(tmp_path, "1.xml", PASS_A + PASS_B)
    two = _junit(tmp_path, "2.xml", '<testcase name="z"><skipped/></testcase>')
    tests = reports_to_facts([parse_report(one), parse_report(two)]).tests
    assert tests is not None
    assert (tests.total, tests.passed, tests.skipped) == (3, 2, 1)


@pytest.mark.parametrize("order", ["fail-first", "pass-first"])
def test_failed_in_one_file_passed_in_another_is_flaky(tmp_path: Path, order: str) -> None:
    """A test id that failed in one file and passed in another counts once, passed and flaky."""
    failing = _junit(tmp_path, "run1.xml", FAIL_A + PASS_B)
    rerun = _junit(tmp_path, "run2.xml", PASS_A)
    paths = [failing, rerun] if order == "fail-first" else [rerun, failing]
    tests = reports_to_facts([parse_report(p) for p in paths]).tests
    assert tests is not None
    assert (tests.total, tests.passed, tests.failed, tests.flaky) == (2, 2, 0, 1)
    assert tests.failures == ()


def test_failed_in_every_file_stays_failed(tmp_path: Path) -> None:
    """A test that failed in both files is not flaky."""
    one = _junit(tmp_path, "1.xml", FAIL_A)
    two = _junit(tmp_path, "2.xml", FAIL_A)
    tests = reports_to_facts([parse_report(one), parse_report(two)]).tests
    assert tests is not None
    assert (tests.failed, tests.flaky, len(tests.failures)) == (2, 0, 2)


def test_rerun_record_after_failure_in_one_file_is_flaky(tmp_path: Path) -> None:
    """A failing record followed by a passing record of the same test is one flaky pass."""
    path = _junit(tmp_path, "r.xml", FAIL_A + PASS_A + PASS_B)
    tests = reports_to_facts([parse_report(path)]).tests
    assert tests is not None
    assert (tests.total, tests.passed, tests.failed, tests.flaky) == (2, 2, 0, 1)


def test_failure_details_are_kept(tmp_path: Path) -> None:
    """A failure keeps suite, name, classname, file, line and message."""
    case = (
        '<testcase classname="pkg.T" name="t" file="t.py" line="12">'
        '<failure message="assert 1 == 2">tb</failure></testcase>'
    )
    failure = reports_to_facts([parse_report(_junit(tmp_path, "f.xml", case))]).tests.failures[0]  # type: ignore[union-attr]
    assert (failure.suite, failure.name, failure.classname) == ("s", "t", "pkg.T")
    assert (failure.file, failure.line, failure.message) == ("t.py", 12, "assert 1 == 2")


def test_coverage_of_the_same_file_sums_hits(tmp_path: Path) -> None:
    """Two reports of one source file merge per line: a line covered by either is covered."""
    one = _cobertura(tmp_path, "1.xml", "src", {1: 1, 2: 0, 3: 0})
    two = _cobertura(tmp_path, "2.xml", "src", {1: 0, 2: 2, 3: 0})
    coverage = reports_to_facts([parse_report(one), parse_report(two)]).coverage
    assert coverage is not None
    assert (coverage.lines_valid, coverage.lines_covered) == (3, 2)


def test_cobertura_and_lcov_paths_meet_through_the_source_root(tmp_path: Path) -> None:
    """A Cobertura path under its <source> root merges with the LCOV path of the same file."""
    cobertura = _cobertura(tmp_path, "c.xml", "/repo/src", {1: 0, 2: 0})
    lcov = tmp_path / "l.info"
    lcov.write_text("SF:/repo/src/pkg/mod.py\nDA:1,3\nDA:2,0\nend_of_record\n")
    facts = reports_to_facts([parse_report(cobertura), parse_report(lcov)])
    assert facts.coverage is not None
    assert (facts.coverage.lines_valid, facts.coverage.lines_covered) == (2, 1)


DIFF = """diff --git a/src/pkg/mod.py b/src/pkg/mod.py
--- a/src/pkg/mod.py
+++ b/src/pkg/mod.py
@@ -1,3 +1,4 @@
 keep
-old
+new
+added
 keep
diff --git a/README.md b/README.md
--- a/README.md
+++ b/README.md
@@ -1 +1 @@
-a
+b
"""


def test_changed_lines_are_the_added_lines_of_the_new_file() -> None:
    """Changed and added lines are numbered in the new file; removed lines are not counted."""
    assert changed_lines(DIFF) == {"src/pkg/mod.py": {2, 3}, "README.md": {1}}


def test_a_git_diff_is_read_file_by_file_with_the_same_result() -> None:
    """A `git format-patch` text (a message before the first file, three files, one removed)
    gives each file's added lines, as when the whole text is one patch."""
    files = "".join(
        f"diff --git a/{name} b/{name}\nindex 1..2 100644\n--- a/{name}\n+++ b/{name}\n"
        f"@@ -1,1 +1,2 @@\n context\n+added in {name}\n"
        for name in ("a.py", "pkg/b.py")
    )
    removed = "diff --git a/old.py b/old.py\ndeleted file mode 100644\nindex 1..0\n"
    removed += "--- a/old.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-gone\n"
    text = "From abc Mon Sep 17 00:00:00 2001\nSubject: change\n\n---\n" + files + removed
    assert changed_lines(text) == {"a.py": {2}, "pkg/b.py": {2}}


def test_patch_coverage_counts_changed_measured_lines(tmp_path: Path) -> None:
    """Patch coverage is covered/valid over the changed lines the report measures."""
    report = parse_report(_cobertura(tmp_path, "c.xml", "src", {1: 1, 2: 1, 3: 0, 9: 0}))
    patch = reports_to_facts([report], changed=changed_lines(DIFF)).coverage.patch  # type: ignore[union-attr]
    assert patch is not None
    assert (patch.lines_valid, patch.lines_covered, patch.rate) == (2, 1, 0.5)
    assert patch.unmatched_paths == ()


def test_patch_coverage_names_the_changed_lines_no_test_ran(tmp_path: Path) -> None:
    """`coverage.patch.uncovered` lists the measured changed lines with no hits, as ranges."""
    diff = changed_lines(
        "--- a/src/pkg/mod.py\n+++ b/src/pkg/mod.py\n@@ -0,0 +1,8 @@\n" + "+x\n" * 8
    )
    hits = {1: 1, 2: 0, 3: 0, 4: 0, 5: 1, 7: 0}  # line 6 and 8 are not measured (blank, comment)
    report = parse_report(_cobertura(tmp_path, "c.xml", "src", hits))
    patch = reports_to_facts([report], changed=diff).coverage.patch  # type: ignore[union-attr]
    assert patch is not None
    assert [(item.file, item.ranges) for item in patch.uncovered] == [
        ("src/pkg/mod.py", ((2, 4), (7, 7)))
    ]
    assert patch.uncovered[0].text() == "2-4, 7"
    assert patch.uncovered_files == 1


def test_no_measurable_changed_line_is_missing_with_a_reason(tmp_path: Path) -> None:
    """When no changed line is measured the rate is missing and says why, never 100%."""
    report = parse_report(_cobertura(tmp_path, "c.xml", "lib", {1: 1}))
    facts = reports_to_facts([report], changed=changed_lines(DIFF))
    assert facts.coverage is not None
    assert facts.coverage.patch is not None
    assert facts.coverage.patch.rate is None
    assert facts.coverage.patch.unmatched_paths == ("lib/pkg/mod.py",)
    assert "no path" in facts.missing["coverage.patch.rate"]


def test_diff_without_coverage_report_says_patch_is_missing(tmp_path: Path) -> None:
    """A diff with only test reports leaves patch coverage missing with a reason."""
    facts = reports_to_facts([parse_report(_junit(tmp_path, "j.xml", PASS_A))], changed={})
    assert "coverage.patch" in facts.missing


def test_not_a_diff_is_a_report_error() -> None:
    """A malformed hunk is a ReportError naming the diff."""
    broken = "--- a/x\n+++ b/x\n@@ -1,5 +1,5 @@\n+only one line\n"
    with pytest.raises(ReportError, match="not a unified diff"):
        changed_lines(broken, source="my.diff")


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    """A real git repository: main with one file, a branch that changes line 2 and adds line 4."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed: the --base tests run a real git (apt-get install git)")
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "t@example.invalid")
    _git(repo, "config", "user.name", "T")
    (repo / "mod.py").write_text("a\nb\nc\n")
    _git(repo, "add", "mod.py")
    _git(repo, "commit", "-q", "-m", "base")
    _git(repo, "checkout", "-q", "-b", "feature")
    (repo / "mod.py").write_text("a\nB\nc\nd\n")
    _git(repo, "commit", "-q", "-am", "change")
    return repo


def test_base_ref_diffs_against_the_merge_base(git_repo: Path) -> None:
    """--base REF gives the lines changed since `git merge-base REF HEAD`."""
    assert git_changed_lines("main", git_repo) == {"mod.py": {2, 4}}


def test_unknown_base_ref_is_a_usage_error(git_repo: Path) -> None:
    """An unknown ref is one sentence from git, exit 2."""
    with pytest.raises(UsageError, match="merge-base failed"):
        git_changed_lines("no-such-branch", git_repo)


def test_base_ref_that_looks_like_an_option_is_refused(git_repo: Path) -> None:
    """A ref starting with '-' is never passed to git."""
    with pytest.raises(UsageError, match="cannot start"):
        git_changed_lines("--output=/tmp/x", git_repo)


def test_large_nested_file_is_counted_exactly_while_memory_is_freed(tmp_path: Path) -> None:
    """Counting stays exact when earlier elements are freed mid-parse (suites of 700 cases)."""
    suites = []
    for s in range(4):
        cases = "".join(
            f'<testcase classname="c{s}" name="t{n}" time="0.5"/>'
            if n % 300 != 299
            else f'<testcase classname="c{s}" name="t{n}"><failure message="m{s}.{n}"/></testcase>'
            for n in range(700)
        )
        suites.append(
            f'<testsuite name="outer{s}"><testsuite name="inner{s}">{cases}</testsuite></testsuite>'
        )
    path = tmp_path / "big.xml"
    path.write_text(f"<testsuites>{''.join(suites)}</testsuites>")
    tests = reports_to_facts([parse_report(path)]).tests
    assert tests is not None
    assert (tests.total, tests.failed, tests.passed) == (2800, 8, 2792)
    assert [f.suite for f in tests.failures] == [f"inner{s}" for s in range(4) for _ in (0, 1)]
    assert [f.message for f in tests.failures][-1] == "m3.599"
    assert tests.duration_s == 2792 * 0.5


def test_googletest_suppressed_tests_are_skipped(tmp_path: Path) -> None:
    """googletest's DISABLED_ tests (status="notrun" result="suppressed") count as skipped."""
    cases = (
        '<testcase name="DISABLED_x" status="notrun" result="suppressed" time="0"/>'
        '<testcase name="ok" status="run" result="completed" time="0.1"/>'
    )
    tests = reports_to_facts([parse_report(_junit(tmp_path, "g.xml", cases))]).tests
    assert tests is not None
    assert (tests.total, tests.passed, tests.skipped) == (2, 1, 1)


def test_several_failed_attempts_then_a_pass_is_one_flaky_pass(tmp_path: Path) -> None:
    """Two failing records and then a passing record of one test count once, passed and flaky."""
    path = _junit(tmp_path, "r.xml", FAIL_A + FAIL_A + PASS_A)
    tests = reports_to_facts([parse_report(path)]).tests
    assert tests is not None
    assert (tests.total, tests.passed, tests.failed, tests.flaky) == (1, 1, 0, 1)
