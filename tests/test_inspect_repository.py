"""`gatekeeper inspect .` over a repository: one line for the files that are not reports, and as
unmatched only the changed files no coverage report names."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli import run_gatekeeper

LCOV = """TN:
SF:src/a.py
DA:1,1
DA:2,0
end_of_record
SF:src/untouched_1.py
DA:1,1
end_of_record
SF:src/untouched_2.py
DA:1,1
end_of_record
"""
DIFF = """--- a/src/a.py
+++ b/src/a.py
@@ -0,0 +1,2 @@
+a
+b
--- a/src/b.py
+++ b/src/b.py
@@ -0,0 +1 @@
+x
"""


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A project folder: sources, a README, a Makefile and one LCOV report among them."""
    (tmp_path / "src").mkdir()
    for name in ("a.py", "b.py", "untouched_1.py", "untouched_2.py"):
        (tmp_path / "src" / name).write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "README.md").write_text("# project\n", encoding="utf-8")
    (tmp_path / "Makefile").write_text("all:\n\ttrue\n", encoding="utf-8")
    (tmp_path / "lcov.info").write_text(LCOV, encoding="utf-8")
    (tmp_path / "change.diff").write_text(DIFF, encoding="utf-8")
    return tmp_path


def test_files_that_are_not_reports_are_one_summary_line(repository: Path) -> None:
    """Seven source and text files give one warning line with their count, not one each."""
    result = run_gatekeeper("inspect", ".", cwd=repository)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "skipped" in line]
    assert len(warnings) == 1
    assert "skipped 7 file(s) in . that are not reports (-v lists them)" in warnings[0]


def test_verbose_lists_each_skipped_file(repository: Path) -> None:
    """With -v each skipped file is named, with why."""
    result = run_gatekeeper("inspect", ".", "-v", cwd=repository)
    assert result.returncode == 0, result.stderr
    assert "skipped README.md: unknown report format" in result.stderr
    assert "skipped src/b.py: unknown report format" in result.stderr


def test_unmatched_lists_only_changed_files_no_report_covers(repository: Path) -> None:
    """The changed file no coverage report names is listed; the unchanged files the report
    covers are one count line (listed with -v)."""
    result = run_gatekeeper("inspect", ".", "--diff", "change.diff", cwd=repository)
    assert result.returncode == 0, result.stderr
    assert "changed, in no coverage report: src/b.py" in result.stdout
    assert "changed, in no coverage report: src/a.py" not in result.stdout
    assert "untouched_1" not in result.stdout
    assert "2 report paths not in the diff (unchanged files; -v lists them)" in result.stdout
    verbose = run_gatekeeper("inspect", ".", "--diff", "change.diff", "-v", cwd=repository)
    assert "report path not in the diff: src/untouched_1.py" in verbose.stdout
