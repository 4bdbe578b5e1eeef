"""Property tests: generated JUnit and coverage documents of known content give exact counts."""

from __future__ import annotations

import tempfile
from pathlib import Path
from xml.sax.saxutils import quoteattr

from hypothesis import given, settings
from hypothesis import strategies as st

from gatekeeper.reports import parse_report, reports_to_facts

OUTCOMES = ("passed", "failed", "error", "skipped", "disabled", "flaky")
_names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12
)
_case = st.tuples(st.sampled_from(OUTCOMES), _names, st.integers(0, 5000))


def _testcase(index: int, outcome: str, name: str, millis: int) -> str:
    attrs = f'classname={quoteattr(f"c{index}")} name={quoteattr(name)} time="{millis / 1000}"'
    body = {
        "passed": "",
        "failed": "<failure message='m'>text</failure>",
        "error": "<error message='e'/>",
        "skipped": "<skipped/>",
        "disabled": "",
        "flaky": "<flakyFailure message='first run'/><system-out>out</system-out>",
    }[outcome]
    status = ' status="disabled"' if outcome == "disabled" else ""
    return f"<testcase {attrs}{status}>{body}</testcase>"


def _parse(text: str, suffix: str) -> object:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"report{suffix}"
        path.write_text(text, encoding="utf-8")
        return reports_to_facts([parse_report(path)])


@settings(max_examples=60, deadline=None)
@given(suites=st.lists(st.lists(_case, max_size=12), max_size=5), nested=st.booleans())
def test_junit_counts_equal_the_generated_cases(
    suites: list[list[tuple[str, str, int]]], nested: bool
) -> None:
    """Every generated testcase is counted once, in the column of its outcome."""
    parts = []
    index = 0
    for cases in suites:
        body = ""
        for outcome, name, millis in cases:
            body += _testcase(index, outcome, name, millis)
            index += 1
        inner = f'<testsuite name="inner">{body}</testsuite>' if nested else body
        parts.append(f'<testsuite name="s" tests="999">{inner}</testsuite>')
    facts = _parse(f'<testsuites tests="-1">{"".join(parts)}</testsuites>', ".xml")
    tests = facts.tests  # type: ignore[attr-defined]
    flat = [case for cases in suites for case in cases]
    count = {o: sum(1 for c in flat if c[0] == o) for o in OUTCOMES}
    assert tests.total == len(flat)
    assert tests.passed == count["passed"] + count["flaky"]
    assert tests.failed == count["failed"]
    assert tests.errors == count["error"]
    assert tests.skipped == count["skipped"] + count["disabled"]
    assert tests.flaky == count["flaky"]
    assert len(tests.failures) == count["failed"] + count["error"]
    assert abs(tests.duration_s - sum(c[2] for c in flat) / 1000) < 1e-6


_file_lines = st.dictionaries(st.integers(1, 400), st.integers(0, 3), max_size=30)
_files = st.dictionaries(
    st.from_regex(r"[a-z]{1,6}/[a-z]{1,6}\.py", fullmatch=True), _file_lines, max_size=4
)


def _expected(files: dict[str, dict[int, int]]) -> tuple[int, int]:
    valid = sum(len(lines) for lines in files.values())
    covered = sum(1 for lines in files.values() for hits in lines.values() if hits)
    return valid, covered


@settings(max_examples=40, deadline=None)
@given(files=_files)
def test_cobertura_counts_equal_the_generated_lines(files: dict[str, dict[int, int]]) -> None:
    """Cobertura lines_valid/covered are the generated lines, whatever the root declares."""
    classes = "".join(
        f'<class name="x" filename="{name}"><methods/><lines>'
        + "".join(f'<line number="{n}" hits="{h}"/>' for n, h in lines.items())
        + "</lines></class>"
        for name, lines in files.items()
    )
    text = (
        f'<coverage line-rate="1" lines-valid="1"><packages><package name="p"><classes>'
        f"{classes}</classes></package></packages></coverage>"
    )
    coverage = _parse(text, ".xml").coverage  # type: ignore[attr-defined]
    assert (coverage.lines_valid, coverage.lines_covered) == _expected(files)


@settings(max_examples=40, deadline=None)
@given(files=_files)
def test_lcov_counts_equal_the_generated_lines(files: dict[str, dict[int, int]]) -> None:
    """LCOV lines_valid/covered are the generated DA records, whatever LF/LH say."""
    text = "".join(
        f"TN:\nSF:{name}\n"
        + "".join(f"DA:{n},{h}\n" for n, h in lines.items())
        + "LF:0\nLH:0\nend_of_record\n"
        for name, lines in files.items()
    )
    if not text:
        text = "TN:\n"
    coverage = _parse(text, ".info").coverage  # type: ignore[attr-defined]
    assert (coverage.lines_valid, coverage.lines_covered) == _expected(files)


@settings(max_examples=40, deadline=None)
@given(files=_files)
def test_merging_a_report_with_itself_keeps_lines_and_coverage(
    files: dict[str, dict[int, int]],
) -> None:
    """Merging two copies of one report sums hits: the same lines, the same covered lines."""
    text = (
        "".join(
            f"SF:{name}\n" + "".join(f"DA:{n},{h}\n" for n, h in lines.items()) + "end_of_record\n"
            for name, lines in files.items()
        )
        or "TN:\n"
    )
    with tempfile.TemporaryDirectory() as folder:
        one, two = Path(folder) / "a.info", Path(folder) / "b.info"
        one.write_text(text)
        two.write_text(text)
        facts = reports_to_facts([parse_report(one), parse_report(two)])
    assert facts.coverage is not None
    assert (facts.coverage.lines_valid, facts.coverage.lines_covered) == _expected(files)


_OUTPUT_BODIES = {
    "passed": "",
    "failed": "<failure message='m'>text</failure>",
    "error": "<error>trace</error>",
    "skipped": "<skipped/>",
    "skipped-why": "<skipped message='r'>why<reason/></skipped>",
    "skipped-twice": "<skipped/><skipped>again</skipped>",
    "skipped-failed": "<skipped/><failure message='f'/>",
    "flaky": "<flakyFailure message='first run'/>",
}
_output_case = st.tuples(
    st.sampled_from(sorted(_OUTPUT_BODIES)),
    st.sampled_from(("a", "b", "c")),  # few names: reruns (a failure, later a pass) happen
    st.sampled_from(("none", "out", "err", "both", "after", "nested")),
    st.sampled_from(("", ' status="disabled"', ' status="passed"')),
)


def _versions(outcome: str, name: str, where: str, status: str) -> tuple[str, str, str]:
    """One testcase without output, with output, and with output and a <properties/> child
    (which takes every testcase off the parser's fast path)."""
    head = f'<testcase classname="c" name="{name}" time="0.5"{status}>'
    body = _OUTPUT_BODIES[outcome]
    before, after = {
        "none": ("", ""),
        "out": ("<system-out><![CDATA[log <a> & b]]></system-out>", ""),
        "err": ("<system-err>warn</system-err>", ""),
        "both": ("<system-out>o</system-out><system-err>e</system-err>", ""),
        "after": ("", "<system-out>late</system-out>"),
        "nested": ("<system-out>x<b>y</b></system-out>", ""),
    }[where]
    return (
        f"{head}{body}</testcase>",
        f"{head}{before}{body}{after}</testcase>",
        f"{head}<properties/>{before}{body}{after}</testcase>",
    )


@settings(max_examples=100, deadline=None)
@given(suites=st.lists(st.lists(_output_case, max_size=10), max_size=4))
def test_output_and_skips_on_the_fast_path_count_as_on_the_slow_one(
    suites: list[list[tuple[str, str, str, str]]],
) -> None:
    """Adding <system-out>/<system-err> to any testcase gives the same counts, failures (in
    order, with messages), flaky and skipped tests as the file without them, and as the file
    whose every testcase takes the parser's closer look (outside pytest's files, where an
    attempt of pytest-rerunfailures is a record with no child)."""
    files: list[list[str]] = [[], [], []]
    for index, cases in enumerate(suites):
        versions = [_versions(*case) for case in cases]
        for number, parts in enumerate(files):
            body = "".join(version[number] for version in versions)
            parts.append(f'<testsuite name="s{index}">{body}</testsuite>')
    plain, output, slow = (
        _parse(f"<testsuites>{''.join(parts)}</testsuites>", ".xml").tests  # type: ignore[attr-defined]
        for parts in files
    )
    assert output == plain
    assert slow == plain
