"""`gatekeeper inspect` as a user runs it: exit codes, one-line errors, JSON shape, paths."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import run_gatekeeper

JUNIT = (
    '<testsuites><testsuite name="s"><testcase classname="c" name="a"/>{extra}'
    "</testsuite></testsuites>"
)
FAILING = '<testcase classname="c" name="b"><failure message="boom"/></testcase>'
COBERTURA = (
    "<coverage><sources><source>src</source></sources><packages><package><classes>"
    '<class filename="m.py"><lines><line number="1" hits="1"/><line number="2" hits="0"/>'
    "</lines></class></classes></package></packages></coverage>"
)


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_gatekeeper("inspect", *args, cwd=cwd)


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    """A folder with a JUnit and a Cobertura report in a sub-folder."""
    folder = tmp_path / "reports"
    (folder / "cov").mkdir(parents=True)
    (folder / "junit.xml").write_text(JUNIT.format(extra=FAILING))
    (folder / "cov" / "coverage.xml").write_text(COBERTURA)
    return folder


def test_json_output_has_the_design_shape(reports: Path) -> None:
    """--format json prints one object with the sections the reports gave, exit 0."""
    result = _run(
        str(reports / "junit.xml"), str(reports / "cov" / "coverage.xml"), "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    assert facts["tests"]["total"] == 2
    assert facts["tests"]["failures"][0]["message"] == "boom"
    assert facts["coverage"]["lines_valid"] == 2
    assert facts["coverage"]["line_rate"] == 0.5
    assert [s["format"] for s in facts["sources"]] == ["junit", "cobertura"]
    assert "reviews" not in facts


def test_directory_is_searched_recursively(reports: Path) -> None:
    """A directory argument takes every file below it."""
    result = _run(str(reports), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["sources"]) == 2


def test_glob_is_expanded(reports: Path) -> None:
    """A glob (quoted, so the shell does not expand it) matches report files."""
    result = _run(str(reports / "**" / "*.xml"), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["sources"]) == 2


def test_text_output_shows_counts_and_failures(reports: Path) -> None:
    """The text output shows the counts, the failing test with its message, and coverage."""
    result = _run(str(reports))
    assert result.returncode == 0, result.stderr
    assert "2 total, 1 passed, 1 failed" in result.stdout
    assert "c.b" in result.stdout
    assert "boom" in result.stdout
    assert "lines 1/2 (50.0%)" in result.stdout


def test_missing_file_is_one_line_exit_2(tmp_path: Path) -> None:
    """A path that does not exist exits 2 with one line naming it."""
    result = _run(str(tmp_path / "nope.xml"))
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {tmp_path / 'nope.xml'}: no such file or directory"


def test_glob_matching_nothing_is_an_error(tmp_path: Path) -> None:
    """A glob that matches no file is an error, never an empty pass."""
    result = _run(str(tmp_path / "*.xml"))
    assert result.returncode == 2
    assert "matches no files" in result.stderr


def test_bad_report_is_one_line_without_traceback(tmp_path: Path) -> None:
    """A truncated report exits 2 with file:line:column and no traceback."""
    path = tmp_path / "junit.xml"
    path.write_text("<testsuites>\n<testsuite>\n<testcase")
    result = _run(str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith(f"error: {path}:3:")


def test_size_limit_is_configurable(reports: Path) -> None:
    """A report over GATEKEEPER_MAX_REPORT_BYTES is refused with exit 2."""
    env_run = subprocess.run(
        [sys.executable, "-m", "gatekeeper", "inspect", str(reports / "junit.xml")],
        capture_output=True,
        text=True,
        check=False,
        env={"GATEKEEPER_MAX_REPORT_BYTES": "10", "PATH": "/usr/bin:/bin"},
    )
    assert env_run.returncode == 2
    assert "over the report size limit of 10 bytes" in env_run.stderr


def test_diff_gives_patch_coverage(reports: Path, tmp_path: Path) -> None:
    """--diff FILE adds coverage.patch for the lines the diff adds."""
    diff = tmp_path / "change.diff"
    diff.write_text("--- a/src/m.py\n+++ b/src/m.py\n@@ -0,0 +1,2 @@\n+x\n+y\n")
    result = _run(str(reports), "--diff", str(diff), "--format", "json")
    assert result.returncode == 0, result.stderr
    patch = json.loads(result.stdout)["coverage"]["patch"]
    assert patch == {
        "lines_valid": 2,
        "lines_covered": 1,
        "rate": 0.5,
        "unmatched_paths": [],
        "uncovered": [{"file": "src/m.py", "ranges": [[2, 2]]}],
        "uncovered_files": 1,
    }


def test_diff_and_base_together_is_a_usage_error(reports: Path, tmp_path: Path) -> None:
    """--diff and --base exclude each other."""
    result = _run(str(reports), "--diff", str(tmp_path / "x"), "--base", "main")
    assert result.returncode == 2
    assert "either --diff FILE or --base REF" in result.stderr


def test_base_in_a_git_repository(tmp_path: Path) -> None:
    """--base REF measures the lines changed since the merge base, in the current repository."""
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("config", "user.email", "t@example.invalid")
    git("config", "user.name", "T")
    (repo / "src").mkdir()
    (repo / "src" / "m.py").write_text("a\n")
    git("add", ".")
    git("commit", "-q", "-m", "base")
    git("checkout", "-q", "-b", "feature")
    (repo / "src" / "m.py").write_text("a\nb\n")
    git("commit", "-q", "-am", "feature")
    (repo / "coverage.xml").write_text(COBERTURA)
    result = _run("coverage.xml", "--base", "main", "--format", "json", cwd=repo)
    assert result.returncode == 0, result.stderr
    patch = json.loads(result.stdout)["coverage"]["patch"]
    assert (patch["lines_valid"], patch["lines_covered"]) == (1, 0)


def test_directory_skips_files_that_are_not_reports(reports: Path) -> None:
    """In a directory, binary and unknown files are skipped with a warning; reports still count."""
    (reports / "results.bin").write_bytes(b"\x00\x01\x02binary")
    (reports / "notes.txt").write_text("not a report\n")
    result = _run(str(reports), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["sources"]) == 2
    assert "skipped" in result.stderr


def test_directory_without_reports_is_an_error(tmp_path: Path) -> None:
    """A directory holding no report at all is an error, never an empty pass."""
    (tmp_path / "notes.txt").write_text("hello\n")
    result = _run(str(tmp_path))
    assert result.returncode == 2
    assert "holds no report among 1 file(s)" in result.stderr


def test_unknown_file_named_directly_is_an_error(tmp_path: Path) -> None:
    """A file named on the command line must be a report."""
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    result = _run(str(path))
    assert result.returncode == 2
    assert "unknown report format" in result.stderr


def test_a_diff_over_the_size_limit_is_refused_with_one_line(reports: Path, tmp_path: Path) -> None:
    """--diff is bounded like reports: over GATEKEEPER_MAX_DIFF_BYTES it is one sentence, exit 2."""
    diff = tmp_path / "change.diff"
    diff.write_text("--- a/m.py\n+++ b/m.py\n@@ -0,0 +1,2 @@\n+a\n+b\n")
    done = run_gatekeeper(
        "inspect", str(reports), "--diff", str(diff), env={"GATEKEEPER_MAX_DIFF_BYTES": "20"}
    )
    assert done.returncode == 2
    assert "over the diff size limit of 20 bytes (GATEKEEPER_MAX_DIFF_BYTES)" in done.stderr
    assert "Traceback" not in done.stderr
    within = run_gatekeeper("inspect", str(reports), "--diff", str(diff), "--format", "json")
    assert within.returncode == 0, within.stderr
