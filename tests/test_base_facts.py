"""Base-aware facts: coverage.delta, tests.new_failures, tests.newly_skipped, tests.removed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from gatekeeper.base_facts import REMOVED_REASON, with_base
from gatekeeper.facts import Coverage, Facts, TestFailure, TestSummary
from gatekeeper.policy import LoadedPolicy, evaluate, load_policy
from gatekeeper.render import verdict_markdown


def _policy(folder: Path, expr: str) -> LoadedPolicy:
    path = folder / "policy.yml"
    path.write_text(f"version: 1\nname: p\nrules:\n  - id: r\n    expr: {expr}\n")
    return load_policy(path)


def _facts(rate: float | None, failing: tuple[str, ...], skipped: tuple[str, ...]) -> Facts:
    failures = tuple(TestFailure(classname="t", name=n) for n in failing)
    tests = TestSummary(
        total=10,
        passed=10 - len(failing) - len(skipped),
        failed=len(failing),
        errors=0,
        skipped=len(skipped),
        failures=failures,
        skipped_tests=tuple(sorted(f"t::{s}" for s in skipped)),
    )
    coverage = Coverage(lines_valid=100, lines_covered=50, line_rate=rate)
    return Facts(tests=tests, coverage=coverage)


def test_delta_new_failures_and_newly_skipped_against_the_base() -> None:
    """Coverage two points lower, one test failing anew and one skipped anew are reported."""
    head = _facts(0.80, ("a", "b"), ("s", "u"))
    base = _facts(0.82, ("a",), ("s",))
    got = with_base(head, base, "")
    assert got.coverage is not None
    assert got.tests is not None
    assert got.coverage.delta == -0.02
    assert got.tests.new_failures == ("t::b",)
    assert got.tests.newly_skipped == 1
    assert got.missing["tests.removed"] == REMOVED_REASON


def test_without_a_base_every_base_fact_is_missing_with_the_reason(tmp_path: Path) -> None:
    """No base: the four facts are missing with the reason, and a rule needing one fails."""
    got = with_base(_facts(0.8, (), ()), None, "no base measurement: the service holds none")
    for name in ("coverage.delta", "tests.new_failures", "tests.removed", "tests.newly_skipped"):
        assert got.missing_reason(name) == "no base measurement: the service holds none"
    policy = _policy(tmp_path, "coverage.delta >= 0.0")
    verdict = evaluate(policy, got, now=dt.datetime.now(dt.UTC))
    assert not verdict.passed
    assert "the service holds none" in verdict_markdown(verdict, got)


def test_base_without_tests_or_coverage_gives_reasons() -> None:
    """A base with neither tests nor coverage leaves the facts missing with a sentence each."""
    got = with_base(_facts(0.8, ("a",), ()), Facts(), "")
    assert got.missing["coverage.delta"] == "the base measurement has no line coverage"
    assert got.missing["tests.new_failures"] == "the base measurement has no test results"


def test_head_without_line_data_or_named_skips_gives_reasons() -> None:
    """No measured lines here, or skips the reports do not name: missing, with which side."""
    head = _facts(None, (), ())
    head = head.model_copy(update={"tests": head.tests.model_copy(update={"skipped": 2})})  # type: ignore[union-attr]
    got = with_base(head, _facts(0.9, (), ()), "")
    assert got.missing["coverage.delta"] == "this change's coverage reports measure no lines"
    assert got.missing["tests.newly_skipped"] == (
        "this change's test reports do not name every skipped test"
    )
    assert got.tests is not None
    assert got.tests.new_failures == ()


def test_comment_shows_the_deltas_and_names_new_failures_and_flaky_tests(tmp_path: Path) -> None:
    """The PR comment says the coverage change, the new failures by name and the flaky tests."""
    head = _facts(0.80, ("a", "b"), ())
    head = head.model_copy(
        update={"tests": head.tests.model_copy(update={"flaky_tests": ("t::wobbly",)})}  # type: ignore[union-attr]
    )
    got = with_base(head, _facts(0.825, ("a",), ()), "")
    policy = _policy(tmp_path, '"tests.total > 0"')
    text = verdict_markdown(evaluate(policy, got, now=dt.datetime.now(dt.UTC)), got)
    assert "line coverage 80.0% (-2.5 against the base)" in text
    assert "1 new failure against the base" in text
    assert "**New failures against the base (1)**: `t::b`" in text
    assert "**Flaky tests (failed, then passed) (1)**: `t::wobbly`" in text
