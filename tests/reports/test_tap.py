"""TAP 13/14 streams: test-summary's fixtures with its expected counts, real Perl and node output,
subtests, plans, bail outs and hostile lines."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatekeeper.errors import ReportError
from gatekeeper.reports import parse_report
from gatekeeper.reports.detect import detect_report
from gatekeeper.reports.tap import MAX_LINE_BYTES, MAX_YAML_BYTES, parse_tap

ASSETS = Path(__file__).resolve().parent.parent / "assets"
TAP = ASSETS / "streams" / "tap"


def _counts(path: Path) -> tuple[int, int, int, int]:
    result = parse_tap(path)
    assert result.total == result.passed + result.failed + result.errors + result.skipped
    return result.passed, result.failed, result.skipped, result.errors


# file -> test-summary's passed, failed, skipped (test/tap.ts) and our errored tests
TEST_SUMMARY = {
    "01-common.tap": (6, 0, 0, 0),
    "02-unknown-amount-and-failure.tap": (5, 2, 0, 0),
    # test-summary: 1 failed and the bail out as the run's exception; here one errored test
    "03-bail-out.tap": (0, 1, 0, 1),
    "04-skipped.tap": (1, 0, 4, 0),
    "05-skip-everything.tap": (0, 0, 0, 0),
    "06-todo.tap": (2, 0, 2, 0),
    "07-creative-liberties.tap": (9, 0, 0, 0),
    # 20 test points under the plan 1..12: the disagreement is one errored test
    "08-everything.tap": (6, 6, 8, 1),
    "09-node-tap.tap": (4, 4, 2, 0),
    # test-summary refuses a plan between test points; here it is one errored test
    "10-results-after-trailer.tap": (4, 4, 2, 1),
}


@pytest.mark.parametrize("name", sorted(TEST_SUMMARY))
def test_test_summary_fixtures_give_its_counts(name: str) -> None:
    """Every TAP fixture of test-summary (two of them in shared/peers) reads as it expects."""
    path = TAP / name
    assert parse_report(path).format == "tap"
    assert _counts(path) == TEST_SUMMARY[name]


def test_yaml_diagnostics_give_message_file_and_line() -> None:
    """TAP 13 `message`, node-tap's `at:` block."""
    failures = parse_tap(TAP / "02-unknown-amount-and-failure.tap").failures
    assert [(f.name, f.message) for f in failures] == [
        ("pinged saphire", 'hostname "saphire" unknown'),
        ("pinged quartz", "timeout"),
    ]
    first = parse_tap(TAP / "09-node-tap.tap").failures[0]
    assert (first.name, first.file, first.line) == ("fails test five", "test.js", 8)


def test_bail_out_and_skip_all() -> None:
    """The bail out's reason is the error's message; `1..0` warns that every test was skipped."""
    bailed = parse_tap(TAP / "03-bail-out.tap").failures[-1]
    assert (bailed.kind, bailed.message) == ("error", "Bail out! Couldn't connect to database.")
    warnings = parse_tap(TAP / "05-skip-everything.tap").warnings
    assert len(warnings) == 1
    assert "1..0 skips every test: skip because English-to-French" in warnings[0]


def test_real_node_test_runner_output_counts_leaves_only() -> None:
    """`node --test --test-reporter=tap` (node 20): the failed parent `cart` is not a test, its
    failed subtest is, with node's `error` and `location`; `# duration_ms` is the duration."""
    path = ASSETS / "reports" / "tap-node-test.tap"
    result = parse_tap(path)
    assert _counts(path) == (2, 1, 2, 0)
    (failure,) = result.failures
    assert (failure.suite, failure.name) == ("cart", "discount")
    assert failure.message == "discount is wrong\n\n9 !== 8"
    assert (failure.file, failure.line) == ("/tmp/taprun/t.test.js", 6)
    assert result.duration_s == pytest.approx(0.787573783)


def test_real_perl_test_more_output() -> None:
    """Test::More with skip, todo and a subtest whose plan comes first (Perl's style)."""
    path = TAP / "perl-test-more.tap"
    assert _counts(path) == (3, 1, 2, 0)
    assert [f.name for f in parse_tap(path).failures] == ["arithmetic"]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.tap"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_failed_parent_with_passing_subtests_is_one_failure(tmp_path: Path) -> None:
    """An exception after the subtests passed must not read as a pass."""
    text = "TAP version 14\n# Subtest: outer\n    ok 1 - a\n    1..1\nnot ok 1 - outer\n1..1\n"
    result = parse_tap(_write(tmp_path, text))
    assert _counts(_write(tmp_path, text)) == (1, 1, 0, 0)
    assert result.failures[0].message == "the test failed while its subtests passed"


def test_a_subtest_plan_that_disagrees_is_an_error_in_that_subtest(tmp_path: Path) -> None:
    """`1..3` over two subtest points: one errored test named after the subtest."""
    text = "TAP version 14\n# Subtest: s\n    1..3\n    ok 1\n    ok 2\nnot ok 1 - s\n1..1\n"
    result = parse_tap(_write(tmp_path, text))
    assert (result.passed, result.failed, result.errors) == (2, 0, 1)
    assert (result.failures[0].suite, result.failures[0].kind) == ("s", "error")


def test_a_stream_without_plan_is_an_error(tmp_path: Path) -> None:
    """A producer that died before its plan: the run is not complete."""
    assert _counts(_write(tmp_path, "TAP version 13\nok 1 - a\n")) == (1, 0, 0, 1)


def test_escaped_hash_and_directives(tmp_path: Path) -> None:
    r"""`\#` is part of the description; SKIP and TODO are case-insensitive directives."""
    text = "1..3\nok 1 - issue \\# 12\nnot ok 2 - x # todo later\nok 3 # Skip: no db\n"
    result = parse_tap(_write(tmp_path, text))
    assert (result.passed, result.skipped) == (1, 2)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("TAP version 12\n1..1\nok 1\n", "TAP version 12 (Gatekeeper reads 13 and 14)"),
        ("1..1\n   ok 1\n", "indented by 3 spaces"),
        ("1..1\n\tnot ok 1\n", "indented with a tab"),
        ("1..1\nnot ok 1\n  ---\n  a: [1, 2\n  ...\n", "invalid YAML diagnostics"),
        ("1..1\nok 1\n" + "# " + "x" * (MAX_LINE_BYTES + 5) + "\n", "longer than 1 MiB"),
        ("1..1\nok 1 \x00\n", "a NUL byte"),
        ("# only a comment\nhello\n", "no TAP test point"),
        ("1..1\nok 1\nTAP version 13\n", "version line after the first test point"),
        ("1..1\n1..1\nok 1\n", "a second plan"),
        ("".join(" " * 4 * depth + "ok 1\n" for depth in range(70)), "deeper than 64"),
    ],
)
def test_hostile_lines_give_one_line_errors(tmp_path: Path, text: str, problem: str) -> None:
    """Broken streams name the file, the line and the problem."""
    path = _write(tmp_path, text)
    with pytest.raises(ReportError, match=re.escape(problem)) as caught:
        parse_tap(path)
    assert str(caught.value).startswith(str(path))
    assert "\n" not in str(caught.value)


def test_yaml_aliases_and_huge_blocks_stay_bounded(tmp_path: Path) -> None:
    """An alias bomb is never expanded (only string keys are read); a block over the bound is
    skipped while its test point still counts."""
    bomb = "".join(f"  a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}]\n" for i in range(1, 30))
    text = "1..2\nnot ok 1 - bomb\n  ---\n  a0: &a0 [x]\n" + bomb + "  message: boom\n  ...\n"
    huge = "not ok 2 - huge\n  ---\n" + "  k: v\n" * (MAX_YAML_BYTES // 6 + 10) + "  ...\n"
    result = parse_tap(_write(tmp_path, text + huge))
    assert [f.message for f in result.failures] == ["boom", "huge"]


@pytest.mark.parametrize(
    "head",
    [b"TAP version 14\n", b"1..3\nok 1\n", b"# comment\n\nnot ok 1 - x\n", b"ok - first\n"],
)
def test_tap_is_detected_from_content(tmp_path: Path, head: bytes) -> None:
    """A version line, a plan or a test point as the first line that is not a comment."""
    assert detect_report(tmp_path / "x", head).name == "tap"


@pytest.mark.parametrize("head", [b"okay then\n", b"SF:a.c\nDA:1,1\nend_of_record\n", b"{}"])
def test_other_text_is_not_tap(tmp_path: Path, head: bytes) -> None:
    """`okay` is not a test point; LCOV and JSON stay theirs."""
    try:
        found = detect_report(tmp_path / "x", head).name
    except ReportError:
        found = None
    assert found != "tap"


_OUTCOMES = ("ok", "not ok", "skip", "todo")
_tap_names = st.text(  # printable in YAML too: letters, digits, punctuation, symbols, spaces
    alphabet=st.characters(
        codec="utf-8", categories=("L", "N", "P", "S", "Zs"), exclude_characters="#\\"
    ),
    max_size=10,
)
_leaf = st.tuples(st.sampled_from(_OUTCOMES), _tap_names)
_tree = st.recursive(
    st.lists(_leaf, max_size=5),
    lambda children: st.lists(
        st.one_of(_leaf, st.tuples(st.booleans(), _tap_names, children)), min_size=1, max_size=4
    ),
    max_leaves=25,
)


def _render(nodes: list[Any], depth: int, plan_first: bool) -> tuple[list[str], int, int]:
    """TAP 14 lines of a level; the leaves and the failures (as Gatekeeper counts them) below."""
    pad = " " * 4 * depth
    lines = [f"{pad}1..{len(nodes)}"] if plan_first else []
    leaves = failures = 0
    for number, node in enumerate(nodes, start=1):
        if len(node) == 3:  # a subtest: (parent failed, name, children)
            parent_failed, name, children = node
            lines.append(f"{pad}# Subtest: {name}")
            inner, inner_leaves, inner_failures = _render(children, depth + 1, not plan_first)
            lines += inner
            leaves += inner_leaves
            failures += inner_failures
            lines.append(f"{pad}{'not ok' if parent_failed else 'ok'} {number} - {name}")
            if parent_failed and not inner_failures:
                leaves, failures = leaves + 1, failures + 1
            continue
        outcome, name = node
        leaves += 1
        directive = {"skip": " # SKIP why", "todo": " # TODO later"}.get(outcome, "")
        word = "ok" if outcome in ("ok", "skip") else "not ok"
        lines.append(f"{pad}{word} {number} - {name}{directive}")
        if outcome == "not ok":
            failures += 1
            lines += [
                f"{pad}  ---",
                f"{pad}  message: {json.dumps(name, ensure_ascii=False)}",
                f"{pad}  ...",
            ]
    if not plan_first:
        lines.append(f"{pad}1..{len(nodes)}")
    return lines, leaves, failures


@settings(max_examples=60, deadline=None)
@given(tree=_tree, plan_first=st.booleans())
def test_generated_tap14_streams_count_leaves_exactly(tree: list[Any], plan_first: bool) -> None:
    """Any nesting of subtests, plans first or last, YAML blocks: exact leaf counts, no error."""
    lines, leaves, failures = _render(tree, 0, plan_first)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generated.tap"
        path.write_text("TAP version 14\n" + "\n".join(lines) + "\n", encoding="utf-8")
        result = parse_tap(path)
    assert (result.total, result.failed, result.errors) == (leaves, failures, 0)
    assert len(result.failures) == failures
