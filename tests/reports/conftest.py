"""Fixtures of the report tests: the shared corpus (found from any worktree) and small writers."""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).resolve()


def _find_shared(folder: str, marker: str) -> Path | None:
    """`<ancestor>/shared/<folder>` of the checkout when it holds `marker`, or None."""
    for parent in _HERE.parents:
        candidate = parent / "shared" / folder
        if (candidate / marker).is_file():
            return candidate
    return None


def find_corpus() -> Path | None:
    """The shared corpus: `<ancestor>/shared/corpus` of the checkout, or None."""
    return _find_shared("corpus", "EXPECTED.tsv")


CORPUS_MISSING = (
    "the shared corpus (shared/corpus/EXPECTED.tsv) is not beside the checkout: put the project's "
    "shared/ folder next to it to run the corpus tests"
)


@pytest.fixture
def corpus_dir() -> Path:
    """The shared corpus of real reports; the test is skipped when it is not there."""
    found = find_corpus()
    if found is None:
        pytest.skip(CORPUS_MISSING)
    return found


def find_peers() -> Path | None:
    """Other projects' report fixtures: `<ancestor>/shared/peers` of the checkout, or None."""
    return _find_shared("peers", "MANIFEST.tsv")
