"""Golden files: each small input under tests/assets/reports gives exactly its stored facts.

Regenerate with `python -m tests.reports.regen` after a deliberate change, and review the diff.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.reports.regen import expected_path, facts_of, inputs


@pytest.mark.parametrize("path", inputs(), ids=lambda p: p.name)
def test_facts_equal_the_golden_file(path: Path) -> None:
    """The parsed facts of a golden input equal its stored .facts.json."""
    expected = json.loads(expected_path(path).read_text(encoding="utf-8"))
    assert facts_of(path) == expected


def test_every_format_has_a_golden_input() -> None:
    """Each supported format has at least one golden input."""
    from gatekeeper.reports import format_names, parse_report

    found = {parse_report(p).format for p in inputs()}
    assert found == set(format_names())
