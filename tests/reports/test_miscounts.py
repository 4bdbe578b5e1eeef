"""The known miscounts of issue 14, each from a real tool's output, counted as the format means."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatekeeper.errors import ReportError
from gatekeeper.reports import parse_report, reports_to_facts

# istanbul's clover reporter: a line with branches is written once, as type="cond" with its hits.
ISTANBUL_CLOVER = """<?xml version="1.0" encoding="UTF-8"?>
<coverage generated="1" clover="3.2.0">
  <project timestamp="1" name="All files">
    <file name="index.js" path="/repo/src/index.js">
      <line num="1" count="1" type="stmt"/>
      <line num="2" count="1" type="cond" truecount="1" falsecount="1"/>
      <line num="3" count="0" type="stmt"/>
      <line num="4" count="0" type="cond" truecount="0" falsecount="4"/>
    </file>
  </project>
</coverage>
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_istanbul_clover_conditional_lines_are_lines(tmp_path: Path) -> None:
    """istanbul's type="cond" lines are lines (with their hits); true/falsecount are branches."""
    facts = reports_to_facts([parse_report(_write(tmp_path, "clover.xml", ISTANBUL_CLOVER))])
    coverage = facts.coverage
    assert coverage is not None
    assert (coverage.lines_valid, coverage.lines_covered) == (4, 2)
    assert (coverage.branches_valid, coverage.branches_covered) == (6, 1)


PESTER_JACOCO = """<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd"[]>
<report name="Pester">
  <package name="p"><sourcefile name="a.ps1">
    <line nr="1" mi="0" ci="1" mb="0" cb="0"/><line nr="2" mi="1" ci="0" mb="0" cb="0"/>
  </sourcefile></package>
</report>
"""


def test_an_empty_internal_dtd_subset_is_read(tmp_path: Path) -> None:
    """Pester's DOCTYPE with an empty internal subset ``[]`` is read; nothing can be declared."""
    facts = reports_to_facts([parse_report(_write(tmp_path, "jacoco.xml", PESTER_JACOCO))])
    assert facts.coverage is not None
    assert (facts.coverage.lines_valid, facts.coverage.lines_covered) == (2, 1)


@pytest.mark.parametrize("subset", ["[ ]", "[<!ELEMENT report ANY>]", '[<!ENTITY a "b">]'])
def test_a_non_empty_internal_subset_stays_refused(tmp_path: Path, subset: str) -> None:
    """Anything inside the internal subset, even a comment, is still refused."""
    text = PESTER_JACOCO.replace("[]", subset)
    path = _write(tmp_path, "jacoco.xml", text)
    if subset == "[ ]":
        assert reports_to_facts([parse_report(path)]).coverage is not None
        return
    with pytest.raises(ReportError, match=r"DOCTYPE|entity"):
        parse_report(path)


@pytest.mark.parametrize("lead", ["\n", "  \r\n\t\n"])
def test_whitespace_before_the_xml_declaration_is_accepted(tmp_path: Path, lead: str) -> None:
    """A blank line (or any whitespace) before ``<?xml ...?>`` does not refuse the report."""
    text = lead + '<?xml version="1.0"?>\n<testsuite name="s"><testcase name="t"/></testsuite>'
    facts = reports_to_facts([parse_report(_write(tmp_path, "junit.xml", text))])
    assert facts.tests is not None
    assert (facts.tests.total, facts.tests.passed) == (1, 1)
