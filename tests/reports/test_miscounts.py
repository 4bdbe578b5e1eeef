"""The known miscounts of issue 14, each from a real tool's output, counted as the format means."""

from __future__ import annotations

import logging
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


# Surefire/Jenkins: a test class whose static initialiser threw, so no testcase ran.
SUITE_ERROR = """<?xml version="1.0"?>
<testsuites>
  <testsuite name="pkg.BrokenTest" tests="0" errors="1">
    <error message="java.lang.ExceptionInInitializerError" type="java.lang.Error">trace</error>
  </testsuite>
  <testsuite name="pkg.GoodTest" tests="1"><testcase classname="pkg.G" name="ok"/></testsuite>
  <testsuite name="pkg.NoMessage"><failure><![CDATA[could not load]]></failure></testsuite>
</testsuites>
"""


def test_a_suite_level_error_without_testcases_is_one_errored_test(tmp_path: Path) -> None:
    """A suite with its own <error>/<failure> and no testcase is one errored test (Jenkins)."""
    facts = reports_to_facts([parse_report(_write(tmp_path, "junit.xml", SUITE_ERROR))])
    tests = facts.tests
    assert tests is not None
    assert (tests.total, tests.passed, tests.errors, tests.failed) == (3, 1, 2, 0)
    assert [(f.suite, f.kind, f.message) for f in tests.failures] == [
        ("pkg.BrokenTest", "error", "java.lang.ExceptionInInitializerError"),
        ("pkg.NoMessage", "error", "could not load"),
    ]


def test_a_suite_error_beside_testcases_adds_no_test(tmp_path: Path) -> None:
    """A suite-level error in a suite that has testcases does not add a test of its own."""
    text = '<testsuite name="s"><testcase name="a"/><error message="teardown"/></testsuite>'
    tests = reports_to_facts([parse_report(_write(tmp_path, "junit.xml", text))]).tests
    assert tests is not None
    assert (tests.total, tests.passed, tests.errors) == (1, 1, 0)


def test_declared_tests_without_testcases_is_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A root that declares tests but holds no testcase is counted as 0 with a warning."""
    text = '<testsuites><testsuite name="pytest" tests="6" failures="1"></testsuite></testsuites>'
    path = _write(tmp_path, "junit.xml", text)
    with caplog.at_level(logging.WARNING):
        tests = reports_to_facts([parse_report(path)]).tests
    assert tests is not None
    assert tests.total == 0
    assert "declares 6 tests but holds no <testcase>" in caplog.text
    assert str(path) in caplog.text


# gotestsum --rerun-fails --junitfile: every failed record, then skipped, then passed, per package.
GOTESTSUM_RERUN = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="6" failures="2" errors="0" time="0.9">
  <testsuite tests="6" failures="2" time="0.9" name="example.com/m/pkg">
    <testcase classname="example.com/m/pkg" name="TestFlaky" time="0.01">
      <failure message="Failed" type="">flaky_test.go:9: first run</failure>
    </testcase>
    <testcase classname="example.com/m/pkg" name="TestBroken" time="0.01">
      <failure message="Failed" type="">broken_test.go:5: always</failure>
    </testcase>
    <testcase classname="example.com/m/pkg" name="TestSkip" time="0.00"><skipped/></testcase>
    <testcase classname="example.com/m/pkg" name="TestOk" time="0.00"></testcase>
    <testcase classname="example.com/m/pkg" name="TestFlaky" time="0.01"></testcase>
    <testcase classname="example.com/m/pkg" name="TestOther" time="0.00"></testcase>
  </testsuite>
</testsuites>
"""


def test_gotestsum_rerun_fails_pass_later_in_the_report_is_flaky(tmp_path: Path) -> None:
    """A failure followed later (not adjacently) by a pass of the same test is passed and flaky,
    and the flaky test is named in tests.flaky_tests."""
    path = _write(tmp_path, "junit.xml", GOTESTSUM_RERUN)
    tests = reports_to_facts([parse_report(path)]).tests
    assert tests is not None
    assert (tests.total, tests.passed, tests.failed, tests.skipped) == (5, 3, 1, 1)
    assert tests.flaky == 1
    assert tests.flaky_tests == ("example.com/m/pkg::TestFlaky",)
    assert [f.name for f in tests.failures] == ["TestBroken"]


def test_flaky_tests_is_a_fact_policies_can_address() -> None:
    """tests.flaky_tests is a list fact of the policy lookup."""
    from gatekeeper.policy.facts_lookup import fact_kind, is_fact

    assert is_fact("tests.flaky_tests")
    assert fact_kind("tests.flaky_tests") == "list"


_RERUN_ALWAYS_FAILS = (
    '<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest"'
    ' errors="0" failures="1" skipped="0" tests="1"><testcase classname="test_g" name="test_bad"'
    ' time="0.001" /><testcase classname="test_g" name="test_bad" time="0.001" /><testcase'
    ' classname="test_g" name="test_bad" time="0.001"><failure message="AssertionError: always">'
    "E AssertionError</failure></testcase></testsuite></testsuites>"
)


def test_pytest_rerunfailures_reruns_are_not_extra_passing_tests(tmp_path: Path) -> None:
    """pytest-rerunfailures 16.7's empty attempt records count once: flaky when the last passes,
    failed (not also passed) when every attempt failed."""
    golden = Path(__file__).resolve().parents[1] / "assets" / "reports"
    tests = parse_report(golden / "junit-pytest-rerunfailures.xml").tests
    assert tests is not None
    assert (tests.total, tests.passed, tests.flaky) == (2, 2, 1)
    assert tests.flaky_tests == ["test_f::test_flaky"]
    path = tmp_path / "always.xml"
    path.write_text(_RERUN_ALWAYS_FAILS, encoding="utf-8")
    tests = parse_report(path).tests
    assert tests is not None
    assert (tests.total, tests.passed, tests.failed, tests.flaky) == (1, 0, 1, 0)


def test_same_named_adjacent_tests_outside_pytest_stay_two_tests(tmp_path: Path) -> None:
    """mocha writes distinct tests with one title next to each other: both count."""
    path = tmp_path / "mocha.xml"
    path.write_text(
        '<testsuite name="Mocha Tests"><testcase classname="p" name="same"/>'
        '<testcase classname="p" name="same"/></testsuite>',
        encoding="utf-8",
    )
    tests = parse_report(path).tests
    assert tests is not None
    assert (tests.total, tests.passed, tests.flaky) == (2, 2, 0)
