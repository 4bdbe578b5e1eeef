"""Shared test set-up: a clean environment, the assets path, and no skips under `.ci/run`.

`.ci/run` sets GATEKEEPER_TEST_NO_SKIPS=1 because there every environment condition a test may skip
on (PostgreSQL, Chromium, the shared corpus, hadolint, git) is provided: a skip there is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


ASSETS = Path(__file__).resolve().parent / "assets"

_NO_SKIPS = os.environ.get("GATEKEEPER_TEST_NO_SKIPS") == "1"  # read before tests clear it
_CI_PREFIXES = ("GITHUB_", "GITLAB_", "CI", "GATEKEEPER_", "RUNNER_")


@pytest.fixture(autouse=True)
def _clean_ci_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the real CI: variables of GitHub, GitLab and Gatekeeper are cleared."""
    for name in list(os.environ):
        if name.startswith(_CI_PREFIXES) and name != "GATEKEEPER_TEST_POSTGRES_URL":
            monkeypatch.delenv(name, raising=False)


def _failed_instead_of_skipped(report: pytest.TestReport | pytest.CollectReport) -> None:
    if _NO_SKIPS and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = (
            f"skipped, but GATEKEEPER_TEST_NO_SKIPS=1 needs every test to run: {reason}"
        )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under GATEKEEPER_TEST_NO_SKIPS=1 a skipped test is reported as failed, with its reason."""
    outcome = yield
    _failed_instead_of_skipped(outcome.get_result())  # type: ignore[attr-defined]


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    """The same for a whole module skipped at collection."""
    outcome = yield
    _failed_instead_of_skipped(outcome.get_result())  # type: ignore[attr-defined]
