"""NUnit, xUnit.net and TRX: real files from other projects' suites read as their totals say,
outcomes mapped as documented, hostile files refused, ids compared across files of one format."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatekeeper.errors import ReportError
from gatekeeper.reports import parse_report, reports_to_facts
from gatekeeper.reports.trx import duration

PEERS = Path(__file__).resolve().parents[1] / "assets" / "dotnet-peers"

# file -> format, total, passed, failed, errors, skipped (the file's own declared totals, with
# NUnit's and TRX's failures split into failed and errored where the file says which)
EXPECTED = {
    "dotnet-nunit.xml": ("nunit", 9, 3, 3, 2, 1),
    "NUnit-correct.xml": ("nunit", 28, 18, 1, 4, 5),
    "clicketyclackety.xml": ("nunit", 23, 13, 1, 9, 0),
    "dotnet-xunitv3.trx": ("trx", 4, 1, 3, 0, 0),
    "dotnet-trx.trx": ("trx", 11, 5, 5, 0, 1),
    "yami_YAMILEX_2015-10-24_04_18_59.trx": ("trx", 25, 2, 2, 1, 20),
    "fixie.xml": ("xunit-net", 7, 3, 3, 0, 1),
    "pickles-xunit1.xml": ("xunit-net", 4, 3, 1, 0, 0),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_peer_files_count_as_they_declare(name: str) -> None:
    """Each peer fixture is detected from content and counts as the file's own totals say."""
    report = parse_report(PEERS / name)
    tests = report.tests
    assert tests is not None
    counts = (tests.total, tests.passed, tests.failed, tests.errors, tests.skipped)
    assert (report.format, *counts) == EXPECTED[name]
    assert len(tests.failures) == tests.failed + tests.errors


def test_peer_failure_messages_are_kept() -> None:
    """A failed NUnit test's message is its <failure><message> text."""
    tests = parse_report(PEERS / "dotnet-nunit.xml").tests
    assert tests is not None
    messages = {f.name: f.message for f in tests.failures}
    assert messages["Exception_In_TargetTest"].startswith("System.DivideByZeroException")
    assert {f.kind for f in tests.failures if f.name.startswith("Exception_In")} == {"error"}


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("NUnit-sec1752-file.xml", "entity declarations are refused"),
        ("NUnit-issue17521.xml", "NUL"),
    ],
)
def test_hostile_peer_files_are_refused(name: str, problem: str) -> None:
    """An entity declaration (XXE) and a NUL byte are refused with one sentence."""
    with pytest.raises(ReportError, match=problem):
        parse_report(PEERS / name)


def test_trx_durations_read_days_hours_and_fractions() -> None:
    """TRX durations are [d.]hh:mm:ss.fffffff; junk and negative values count as 0."""
    assert duration("00:00:01.5000000") == 1.5
    assert duration("1.02:03:04") == 86400 + 2 * 3600 + 3 * 60 + 4
    assert duration("soon") == 0.0
    assert duration(None) == 0.0


def _nunit(path: Path, result: str) -> Path:
    path.write_text(
        '<test-run><test-suite type="Assembly" name="a.dll">'
        f'<test-case name="Adds" classname="Calc" result="{result}" duration="0.1">'
        + ("<failure><message>boom</message></failure>" if result == "Failed" else "")
        + "</test-case></test-suite></test-run>",
        encoding="utf-8",
    )
    return path


def test_a_failure_passed_in_another_file_of_the_format_is_flaky(tmp_path: Path) -> None:
    """NUnit ids compare across NUnit files: a rerun that passed makes the test flaky."""
    failed = _nunit(tmp_path / "first.xml", "Failed")
    passed = _nunit(tmp_path / "rerun.xml", "Passed")
    facts = reports_to_facts([parse_report(failed), parse_report(passed)])
    assert facts.tests is not None
    assert (facts.tests.total, facts.tests.passed, facts.tests.failed) == (1, 1, 0)
    assert list(facts.tests.flaky_tests) == ["Calc::Adds"]


def test_a_truncated_file_names_its_place(tmp_path: Path) -> None:
    """A TRX file cut off inside a result is one sentence with the line, not a traceback."""
    path = tmp_path / "cut.trx"
    path.write_text(
        '<TestRun xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">\n'
        '<Results><UnitTestResult testName="A" outcome="Failed"><Output><ErrorInfo>'
        "<Message><![CDATA[x",
        encoding="utf-8",
    )
    with pytest.raises(ReportError, match="invalid XML") as error:
        parse_report(path)
    assert error.value.line is not None


def test_trx_without_the_namespace_is_not_trx(tmp_path: Path) -> None:
    """A <TestRun> outside the TeamTest namespace is not guessed to be TRX."""
    path = tmp_path / "run.xml"
    path.write_text("<TestRun><Results/></TestRun>", encoding="utf-8")
    with pytest.raises(ReportError, match="unknown XML report"):
        parse_report(path)


def test_an_unknown_trx_outcome_is_an_error_not_a_pass(tmp_path: Path) -> None:
    """A result whose outcome TRX does not define counts as an error, never a silent pass."""
    path = tmp_path / "odd.trx"
    path.write_text(
        '<TestRun xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010"><Results>'
        '<UnitTestResult testName="A" outcome="Sideways"/><UnitTestResult testName="B"/>'
        "</Results></TestRun>",
        encoding="utf-8",
    )
    tests = parse_report(path).tests
    assert tests is not None
    assert (tests.total, tests.errors) == (2, 2)
