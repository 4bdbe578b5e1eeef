"""Waivers: concessions with reason, approver and expiry (ISO 9001 8.7)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatekeeper.errors import PolicyError
from gatekeeper.facts import Coverage
from tests.policy._helpers import change, facts, message, outcome, policy_of, run

RULE = """
- id: line-coverage
  title: Line coverage
  metric: coverage.line_rate
  op: ">="
  threshold: 0.9
"""
LOW = Coverage(lines_valid=100, lines_covered=75, line_rate=0.75)


def _waiver(expires: str = "2026-12-31", scope: str = "") -> str:
    return f"""
waivers:
  - rule: line-coverage
    reason: legacy module
    approved_by: qa-lead
    expires: {expires}
    ticket: QA-12
{scope}"""


def test_valid_waiver_waives_a_failure(tmp_path: Path) -> None:
    """A failing rule with a current waiver is waived, the gate passes, the reason is kept."""
    verdict = run(policy_of(tmp_path, RULE, _waiver()), facts(coverage=LOW))
    assert outcome(verdict, "line-coverage") == "waived"
    assert verdict.verdict == "pass"
    assert message(verdict, "line-coverage").startswith(
        "waived by qa-lead until 2026-12-31 (legacy module, QA-12): line coverage 75.0%"
    )
    assert [use.status for use in verdict.waivers] == ["applied"]


def test_waiver_holds_through_its_last_day(tmp_path: Path) -> None:
    """A waiver expiring today still holds."""
    verdict = run(policy_of(tmp_path, RULE, _waiver("2026-06-01")), facts(coverage=LOW))
    assert outcome(verdict, "line-coverage") == "waived"


def test_expired_waiver_does_not_apply_and_says_so(tmp_path: Path) -> None:
    """An expired waiver leaves the rule failed and the Verdict says it expired."""
    verdict = run(policy_of(tmp_path, RULE, _waiver("2026-05-31")), facts(coverage=LOW))
    assert outcome(verdict, "line-coverage") == "fail"
    assert verdict.verdict == "fail"
    assert "waiver by qa-lead expired on 2026-05-31" in message(verdict, "line-coverage")
    assert verdict.waivers[0].status == "expired"


def test_waiver_for_unknown_rule_is_a_policy_error(tmp_path: Path) -> None:
    """A waiver naming no rule of the policy is an error at its rule field, with a suggestion."""
    extra = _waiver().replace("rule: line-coverage", "rule: line-coverag")
    with pytest.raises(PolicyError) as caught:
        policy_of(tmp_path, RULE, extra)
    text = str(caught.value)
    assert "waiver for unknown rule 'line-coverag'; did you mean line-coverage?" in text
    assert (caught.value.line, caught.value.column) == (12, 11)


def test_waiver_without_expiry_is_rejected(tmp_path: Path) -> None:
    """`expires` is required on every waiver."""
    extra = "\nwaivers:\n  - rule: line-coverage\n    reason: r\n    approved_by: q\n"
    with pytest.raises(PolicyError, match=r"waivers\[0\]\.expires: Field required"):
        policy_of(tmp_path, RULE, extra)


def test_waiver_scoped_to_branch(tmp_path: Path) -> None:
    """A waiver scoped to a branch glob holds there and nowhere else."""
    policy = policy_of(tmp_path, RULE, _waiver(scope="    scope: {branch: 'release/*'}\n"))
    on_release = facts(coverage=LOW, change=change(branch="release/2.0"))
    on_main = facts(coverage=LOW, change=change(branch="main"))
    assert outcome(run(policy, on_release), "line-coverage") == "waived"
    verdict = run(policy, on_main)
    assert outcome(verdict, "line-coverage") == "fail"
    assert verdict.waivers[0].status == "out_of_scope"
    assert "not on main" in verdict.waivers[0].message


def test_waiver_scoped_to_paths_needs_every_file_inside(tmp_path: Path) -> None:
    """A path-scoped waiver holds only when every changed file is inside its paths."""
    scope = "    scope:\n      paths: ['legacy/**']\n"
    policy = policy_of(tmp_path, RULE, _waiver(scope=scope))
    inside = facts(coverage=LOW, change=change(files=("legacy/a.py", "legacy/sub/b.py")))
    mixed = facts(coverage=LOW, change=change(files=("legacy/a.py", "src/c.py")))
    unknown = facts(coverage=LOW)
    assert outcome(run(policy, inside), "line-coverage") == "waived"
    assert outcome(run(policy, mixed), "line-coverage") == "fail"
    assert outcome(run(policy, unknown), "line-coverage") == "fail"


def test_waiver_on_a_passing_rule_is_unused(tmp_path: Path) -> None:
    """A waiver for a rule that passed changes nothing and is reported as unused."""
    verdict = run(
        policy_of(tmp_path, RULE, _waiver()),
        facts(coverage=Coverage(lines_valid=10, lines_covered=10, line_rate=1.0)),
    )
    assert outcome(verdict, "line-coverage") == "pass"
    assert verdict.waivers[0].status == "unused"
