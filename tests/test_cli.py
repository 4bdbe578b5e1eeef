"""The command line's global behaviour: help, version, exit codes for errors."""

from __future__ import annotations

from pathlib import Path

from gatekeeper import __version__
from tests.cli import run_gatekeeper

_run = run_gatekeeper


def test_version_prints_the_installed_version() -> None:
    """`--version` prints the package version and exits 0."""
    result = _run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"gatekeeper {__version__}"


def test_help_lists_the_commands() -> None:
    """`--help` names the inspect command and the verbose flag."""
    result = _run("--help")
    assert result.returncode == 0
    assert "inspect" in result.stdout
    assert "--verbose" in result.stdout


def test_unknown_option_is_a_usage_error() -> None:
    """An unknown flag exits 2 without a traceback."""
    result = _run("--no-such-flag")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_ci_log_output_is_one_line_per_rule_with_its_title(tmp_path: Path) -> None:
    """Piped into a CI log, the verdict is not wrapped at 80 columns and names each rule's title."""
    report = tmp_path / "junit.xml"
    name = "test_" + "x" * 90
    report.write_text(
        f'<testsuite name="s" tests="1" failures="1"><testcase classname="pkg" name="{name}">'
        '<failure message="boom">trace</failure></testcase></testsuite>',
        encoding="utf-8",
    )
    done = run_gatekeeper("evaluate", "--report", str(report), "--policy", "pull-request")
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    tests_green = next(line for line in lines if "tests-green" in line)
    assert "No test fails" in tests_green
    assert "1 test failed (exactly 0 required)" in tests_green
    assert any(line.strip() == f"failure pkg.{name}" for line in lines)
    assert all(line == line.rstrip() for line in lines)
