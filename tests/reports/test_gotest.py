"""go test -json streams: real go 1.19 output, reruns, unended tests and hostile lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gatekeeper.errors import ReportError
from gatekeeper.reports.gotest import parse_gotest

STREAMS = Path(__file__).resolve().parent.parent / "assets" / "streams"


def _write(tmp_path: Path, events: list[dict[str, object]]) -> Path:
    path = tmp_path / "events.json"
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


def test_real_go_output_counts_parents_unended_and_build_failures() -> None:
    """Real `go test -json ./... -timeout 2s` (go 1.19.8): parents count, a timed-out test and a
    panicking one are failed, the package that failed to build is one error."""
    result = parse_gotest(STREAMS / "gotest-go1.19.json")
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
