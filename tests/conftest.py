"""Shared fixtures: a clean environment, paths to the corpus and the bundled examples."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _find_corpus() -> Path:
    """shared/corpus beside the checkout (CI) or beside one of its parents (worktrees)."""
    for folder in ROOT.parents:
        candidate = folder / "shared" / "corpus"
        if candidate.is_dir():
            return candidate
    return ROOT.parent / "shared" / "corpus"


CORPUS = _find_corpus()
ASSETS = Path(__file__).resolve().parent / "assets"

_CI_PREFIXES = ("GITHUB_", "GITLAB_", "CI", "GATEKEEPER_", "RUNNER_")


@pytest.fixture(autouse=True)
def _clean_ci_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the real CI: variables of GitHub, GitLab and Gatekeeper are cleared."""
    for name in list(os.environ):
        if name.startswith(_CI_PREFIXES) and name != "GATEKEEPER_TEST_POSTGRES_URL":
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def corpus() -> Path:
    """The shared corpus of real reports and API payloads."""
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is not at {CORPUS}")
    return CORPUS
