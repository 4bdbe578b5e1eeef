"""The known miscounts of issue 14, each from a real tool's output, counted as the format means."""

from __future__ import annotations

from pathlib import Path

from gatekeeper.reports import parse_report, reports_to_facts

# istanbul's clover reporter: a line with branches is written once, as type="cond" with its hits.
ISTANBUL_CLOVER = """<?xml version="1.0" encoding="UTF-8"?>
<coverage generated="1" clover="3.2.0">
  <project timestamp="1" name="All files">
    <file name="index.js" path="/repo/src/index.js">
      <line num="1" count="1" type="stmt"/>
      <line num="2" count="1" type="cond" truecount="1" falsecount="0"/>
      <line num="3" count="0" type="stmt"/>
      <line num="4" count="0" type="cond" truecount="0" falsecount="0"/>
    </file>
  </project>
</coverage>
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_istanbul_clover_conditional_lines_are_lines(tmp_path: Path) -> None:
    """istanbul's type="cond" lines count as lines (with their hits) and as two branches each."""
    facts = reports_to_facts([parse_report(_write(tmp_path, "clover.xml", ISTANBUL_CLOVER))])
    coverage = facts.coverage
    assert coverage is not None
    assert (coverage.lines_valid, coverage.lines_covered) == (4, 2)
    assert (coverage.branches_valid, coverage.branches_covered) == (4, 1)
