"""Threshold rules: every operator, every outcome, severity and fail-closed behaviour."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from gatekeeper.facts import Check, Checks, Coverage, PatchCoverage, TestSummary
from tests.policy._helpers import facts, message, outcome, policy_of, run

COVERAGE_RULE = """
- id: cov
  title: Line coverage
  metric: coverage.line_rate
  op: "{op}"
  threshold: {threshold}
"""


@pytest.mark.parametrize(
    ("op", "threshold", "expected"),
    [
        (">=", 0.85, "pass"),
        (">=", 0.9, "fail"),
        (">", 0.85, "fail"),
        (">", 0.8, "pass"),
        ("<=", 0.85, "pass"),
        ("<=", 0.8, "fail"),
        ("<", 0.9, "pass"),
        ("<", 0.85, "fail"),
        ("==", 0.85, "pass"),
        ("==", 0.8, "fail"),
        ("!=", 0.8, "pass"),
        ("!=", 0.85, "fail"),
    ],
)
def test_every_operator(tmp_path: Path, op: str, threshold: float, expected: str) -> None:
    """Each of the six operators compares the fact with the threshold as written."""
    policy = policy_of(tmp_path, COVERAGE_RULE.format(op=op, threshold=threshold))
    assert outcome(run(policy, facts()), "cov") == expected


def test_failure_sentence_names_actual_and_required(tmp_path: Path) -> None:
    """A failed coverage floor says the actual and the required percentage in one sentence."""
    policy = policy_of(tmp_path, COVERAGE_RULE.format(op=">=", threshold=0.8))
    low = facts(coverage=Coverage(lines_valid=100, lines_covered=75, line_rate=0.75))
    verdict = run(policy, low)
    rule = verdict.rules[0]
    assert rule.message == "line coverage 75.0% is below the required 80.0%"
    assert (rule.actual, rule.expected, rule.outcome) == (0.75, ">= 80.0%", "fail")
    assert verdict.verdict == "fail"


def test_pass_gives_a_pass_verdict(tmp_path: Path) -> None:
    """A policy whose every rule passes gives the verdict pass."""
    policy = policy_of(tmp_path, COVERAGE_RULE.format(op=">=", threshold=0.8))
    verdict = run(policy, facts())
    assert verdict.verdict == "pass"
    assert verdict.rules[0].message == "line coverage 85.0% meets the required 80.0%"


def test_warn_severity_does_not_fail_the_gate(tmp_path: Path) -> None:
    """A failing rule with severity warn ends as warn and the verdict still passes."""
    policy = policy_of(
        tmp_path, COVERAGE_RULE.format(op=">=", threshold=0.9) + "  severity: warn\n"
    )
    verdict = run(policy, facts())
    assert outcome(verdict, "cov") == "warn"
    assert verdict.verdict == "pass"


@pytest.mark.parametrize(
    ("on_missing", "expected", "verdict"),
    [("fail", "fail", "fail"), ("warn", "warn", "pass"), ("skip", "skipped", "pass")],
)
def test_missing_fact_fails_closed_unless_told(
    tmp_path: Path, on_missing: str, expected: str, verdict: str
) -> None:
    """A missing fact fails the rule by default; on_missing warn or skip soften it."""
    rule = f"""
    - id: approvals
      title: Approved
      metric: reviews.approvals
      op: ">="
      threshold: 1
      on_missing: {on_missing}
    """
    result = run(policy_of(tmp_path, rule), facts())
    assert outcome(result, "approvals") == expected
    assert result.verdict == verdict
    sentence = message(result, "approvals")
    assert "reviews.approvals is missing" in sentence
    assert "--provider github|gitlab" in sentence


def test_missing_reason_from_the_facts_is_quoted(tmp_path: Path) -> None:
    """The reason the sources recorded for a missing fact appears in the sentence."""
    given = facts(coverage=None).model_copy(update={"missing": {"coverage": "no coverage report"}})
    result = run(policy_of(tmp_path, COVERAGE_RULE.format(op=">=", threshold=0.8)), given)
    assert "no coverage report" in message(result, "cov")
    assert "Cobertura" in message(result, "cov")


def test_rate_with_nothing_to_measure_is_skipped(tmp_path: Path) -> None:
    """Patch coverage on a diff with no measurable lines is skipped, not failed as missing."""
    rule = """
    - id: patch
      title: Patch covered
      metric: coverage.patch.rate
      op: ">="
      threshold: 0.8
    """
    cov = Coverage(
        lines_valid=10,
        lines_covered=9,
        line_rate=0.9,
        patch=PatchCoverage(lines_valid=0, lines_covered=0, rate=None),
    )
    result = run(policy_of(tmp_path, rule), facts(coverage=cov))
    assert outcome(result, "patch") == "skipped"


def test_list_metric_compares_its_length(tmp_path: Path) -> None:
    """A metric naming a list (checks.failed) compares the number of items."""
    rule = """
    - id: checks
      title: Checks green
      metric: checks.failed
      op: "=="
      threshold: 0
    """
    red = Check(name="lint", status="completed", conclusion="failure")
    result = run(policy_of(tmp_path, rule), facts(checks=Checks(runs=(red,), failed=(red,))))
    assert outcome(result, "checks") == "fail"
    assert result.rules[0].actual == 1


def test_bool_metric(tmp_path: Path) -> None:
    """A true/false fact compares with == and a boolean threshold."""
    from gatekeeper.facts import Reviews

    rule = """
    - id: owners
      title: Code owners approved
      metric: reviews.codeowners_approved
      op: "=="
      threshold: true
    """
    given = facts(reviews=Reviews(approvals=1, codeowners_approved=False))
    assert outcome(run(policy_of(tmp_path, rule), given), "owners") == "fail"


def test_error_outcome_fails_the_gate(tmp_path: Path) -> None:
    """A CEL rule that fails at run time ends as error, and a blocking error fails the gate."""
    rule = """
    - id: ratio
      title: Few skipped
      expr: tests.skipped / tests.total < 1
    """
    zero = facts(tests=TestSummary(total=0, passed=0, failed=0, errors=0, skipped=0))
    result = run(policy_of(tmp_path, rule), zero)
    assert outcome(result, "ratio") == "error"
    assert "division by zero" in message(result, "ratio")
    assert result.verdict == "fail"


def test_evaluated_at_is_the_injected_clock(tmp_path: Path) -> None:
    """The Verdict carries the time given by the caller, in UTC."""
    policy = policy_of(tmp_path, COVERAGE_RULE.format(op=">=", threshold=0.8))
    when = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert run(policy, facts(), now=when).evaluated_at == when
