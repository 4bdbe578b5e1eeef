"""The command line's global behaviour: help, version, exit codes for errors."""

from __future__ import annotations

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
