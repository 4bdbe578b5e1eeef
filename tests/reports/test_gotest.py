"""go test -json streams: real go 1.19 output, reruns, unended tests and hostile lines.

`tests/assets/reports/gotest-go1.19.json` (also a golden input of test_golden.py): stdout of
`go test -json ./... -timeout 2s` (go 1.19.8, Debian golang-go) on a small module written for this
purpose (packages: cart with pass/fail/skip, table-driven parallel subtests and nested subtests;
panics with a nil-map panic in a subtest; slow with a test that hangs past the timeout; broken,
which does not compile; noTests without test files). Unedited.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gatekeeper.errors import ReportError
from gatekeeper.reports import parse_report, reports_to_facts
from gatekeeper.reports.gotest import parse_gotest, passed_ids
from tests.cli import run_gatekeeper

GOLDEN = Path(__file__).resolve().parent.parent / "assets" / "reports"


def _write(tmp_path: Path, events: list[dict[str, object]]) -> Path:
    path = tmp_path / "events.json"
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


def test_real_go_output_counts_parents_unended_and_build_failures() -> None:
    """Real `go test -json ./... -timeout 2s` (go 1.19.8): parents count, a timed-out test and a
    panicking one are failed, the package that failed to build is one error."""
    result = parse_gotest(GOLDEN / "gotest-go1.19.json")
    assert (result.total, result.passed, result.failed, result.errors, result.skipped) == (
        17,
        8,
        6,
        1,
        2,
    )
    by_name = {f.name: f for f in result.failures}
    assert by_name["TestTable/two_wrong"].message == "cart_test.go:33: Total([1 1]) = 2, want 3"
    assert (by_name["TestDiscount"].file, by_name["TestDiscount"].line) == ("cart_test.go", 15)
    assert by_name["TestHangs"].message.startswith("panic: test timed out after 2s")
    assert by_name["example.com/shop/broken"].kind == "error"
    assert result.duration_s == pytest.approx(2.022)


def test_a_failure_followed_later_by_a_pass_is_passed_and_flaky(tmp_path: Path) -> None:
    """gotestsum --rerun-fails order: the failed run first, other tests, then the passing rerun."""
    run = {"Package": "p", "Test": "TestA"}
    events = [
        {**run, "Action": "run"},
        {**run, "Action": "fail"},
        {"Package": "p", "Test": "TestB", "Action": "pass"},
        {"Package": "p", "Action": "fail"},
        {**run, "Action": "run"},
        {**run, "Action": "pass"},
    ]
    result = parse_gotest(_write(tmp_path, events))
    assert (result.total, result.passed, result.failed, result.flaky) == (2, 2, 0, 1)


def test_a_test_without_end_in_a_passed_package_is_passed(tmp_path: Path) -> None:
    """The package's pass vouches for a test whose end event test2json lost."""
    events = [{"Package": "p", "Test": "T", "Action": "run"}, {"Package": "p", "Action": "pass"}]
    result = parse_gotest(_write(tmp_path, events))
    assert (result.total, result.passed) == (1, 1)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"Action": "run", "Package": \n', "invalid JSON"),
        ("[1]\n", "no go test -json events"),
        ("{}\n", "without Action or Package"),
        ('{"Action": "run", "ImportPath": 3}\n', "without Action or Package"),
        ('{"Action":"pass","Package":"p"}\n' + "{" + "x" * (1024 * 1024 + 5) + "\n", "longer"),
    ],
)
def test_hostile_lines_give_one_line_errors(tmp_path: Path, text: str, problem: str) -> None:
    """Broken streams name the file, the line and the problem."""
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ReportError, match=problem) as caught:
        parse_gotest(path)
    assert str(caught.value).startswith(str(path))
    assert "\n" not in str(caught.value)


def test_the_stream_is_detected_from_its_first_event() -> None:
    """The registry reads the real stream as `gotest` although its first line is go's text."""
    report = parse_report(GOLDEN / "gotest-go1.19.json")
    assert report.format == "gotest"
    assert report.tests is not None
    assert (report.tests.total, report.tests.errors) == (17, 1)


@pytest.mark.parametrize(
    "first",
    [
        '{"Time":"2026-12-03T09:10:28Z","Action":"run","Test":"T"}',
        '{"Action":"run","Package":"p","Test":"T"}',
    ],
)
def test_an_action_with_package_or_time_is_a_go_stream(tmp_path: Path, first: str) -> None:
    """`Action` with `Package` or `Time` in the first object makes a go test -json stream."""
    path = tmp_path / "events"
    path.write_text(first + '\n{"Action":"pass","Package":"p"}\n', encoding="utf-8")
    assert parse_report(path).format == "gotest"


def test_a_json_object_without_action_is_not_a_go_stream(tmp_path: Path) -> None:
    """A JSON object without `Action` is refused as an unknown JSON report, not read as go."""
    path = tmp_path / "other.json"
    path.write_text('{"Package":"p","Test":"T"}\n', encoding="utf-8")
    with pytest.raises(ReportError, match="unknown JSON report"):
        parse_report(path)


def test_a_failure_passed_in_another_stream_is_flaky(tmp_path: Path) -> None:
    """A test that failed in one stream and passed in a rerun's stream counts once, flaky; a
    test that failed in both stays failed."""
    first = _write(
        tmp_path,
        [
            {"Package": "p", "Test": "TestA", "Action": "fail"},
            {"Package": "p", "Test": "TestB", "Action": "fail"},
            {"Package": "p", "Action": "fail"},
        ],
    )
    rerun = tmp_path / "rerun.json"
    first.rename(tmp_path / "first.json")
    rerun.write_text(
        "".join(
            json.dumps(e) + "\n"
            for e in [
                {"Package": "p", "Test": "TestA", "Action": "pass"},
                {"Package": "p", "Test": "TestB", "Action": "fail"},
                {"Package": "p", "Action": "fail"},
            ]
        ),
        encoding="utf-8",
    )
    assert passed_ids(rerun, {"p::TestA", "p::TestB", "p::p"}) == {"p::TestA"}
    facts = reports_to_facts([parse_report(tmp_path / "first.json"), parse_report(rerun)])
    assert facts.tests is not None
    assert (facts.tests.total, facts.tests.passed, facts.tests.failed) == (3, 1, 2)
    assert list(facts.tests.flaky_tests) == ["p::TestA"]


def test_inspect_prints_the_counts_of_real_go_output() -> None:
    """`gatekeeper inspect` on real go output: 17 tests, 8 passed, 6 failed, 1 error, 2 skipped."""
    result = run_gatekeeper("inspect", str(GOLDEN / "gotest-go1.19.json"))
    assert result.returncode == 0, result.stderr
    assert "17 total, 8 passed, 6 failed, 1 errors, 2 skipped" in result.stdout
    assert "TestTable/two_wrong" in result.stdout


def test_dorny_test_reporter_fixture_gives_its_expected_counts() -> None:
    """dorny/test-reporter's golang-json.json (MIT; a copy of the shared/peers file) reads as
    its own expected output (`__tests__/__outputs__/golang-json.md`): 12 tests, 5 passed, 6 failed,
    1 skipped."""
    peer = Path(__file__).resolve().parents[1] / "assets" / "gotest-peers" / "golang-json.json"
    report = parse_report(peer)
    assert report.format == "gotest"
    tests = report.tests
    assert tests is not None
    assert (tests.total, tests.passed, tests.failed, tests.errors, tests.skipped) == (
        12,
        5,
        6,
        0,
        1,
    )


def test_a_deeply_nested_event_line_is_one_line_error(tmp_path: Path) -> None:
    """A line of 100,000 nested arrays inside an event is refused with its line, no traceback."""
    path = tmp_path / "deep.json"
    path.write_text(
        '{"Action":"run","Package":"p","Test":"T"}\n{"Action":"output","x":'
        + "[" * 100_000
        + "]" * 100_000
        + "}\n",
        encoding="utf-8",
    )
    with pytest.raises(ReportError, match="nested too deeply") as caught:
        parse_report(path)
    assert caught.value.line == 2
