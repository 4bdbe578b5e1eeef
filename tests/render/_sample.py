"""A Verdict with every outcome and Facts with failing tests, for the renderer golden files.

Regenerate the golden files with `python -m tests.render._sample` (then review the diff).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from gatekeeper.facts import Coverage, Facts, TestFailure, TestSummary
from gatekeeper.policy import PolicyRef, RuleResult, Verdict, WaiverUse
from gatekeeper.render import verdict_markdown, verdict_text

GOLDEN = Path(__file__).resolve().parents[1] / "assets" / "render"


def sample_facts(failures: int = 3) -> Facts:
    """A run of 1200 tests with `failures` failures, 82.5% line coverage."""
    listed = tuple(
        TestFailure(
            suite="unit",
            name=f"test_charge_{i}",
            classname="payments.tests.test_charge",
            file="payments/tests/test_charge.py",
            line=10 + i,
            message=f"AssertionError: expected 200, got 50{i} | <details>",
        )
        for i in range(failures)
    )
    return Facts(
        tests=TestSummary(
            total=1200,
            passed=1200 - failures,
            failed=failures,
            errors=0,
            skipped=4,
            failures=listed,
        ),
        coverage=Coverage(lines_valid=4000, lines_covered=3300, line_rate=0.825),
    )


def sample_verdict() -> Verdict:
    """One rule of each outcome, an expired waiver, a fixed clock."""
    rules = (
        RuleResult(
            id="tests-green",
            title="All tests pass",
            outcome="fail",
            actual={"tests.failed": 3},
            expected="tests.failed == 0 is true",
            clause="8.6",
            message="tests.failed == 0 is false (tests.failed = 3) (a waiver by qa-lead "
            "expired on 2026-05-31)",
        ),
        RuleResult(
            id="line-coverage",
            title="Line coverage floor",
            outcome="pass",
            actual=0.825,
            expected=">= 80.0%",
            clause="8.3.4",
            metric="coverage.line_rate",
            message="line coverage 82.5% meets the required 80.0%",
        ),
        RuleResult(
            id="branch-coverage",
            title="Branch coverage floor",
            outcome="warn",
            expected=">= 70.0%",
            clause="8.3.4",
            severity="warn",
            message="coverage.branch_rate is missing (the sources gave no value for it); "
            "a coverage report provides it",
        ),
        RuleResult(
            id="four-eyes",
            title="Two approvals",
            outcome="waived",
            actual=1,
            expected=">= 2",
            clause="8.6",
            message="waived by qa-lead until 2026-12-31 "
            "(hotfix, QA-12): approvals 1 is below the required 2",
        ),
        RuleResult(
            id="payments",
            title="Payments reviewed",
            outcome="skipped",
            message="does not apply: no changed file matches src/payments/**",
        ),
        RuleResult(
            id="custom",
            title="Custom check",
            outcome="error",
            clause="8.7",
            message="the expression failed: division by zero in CEL expression",
        ),
    )
    return Verdict(
        verdict="fail",
        policy=PolicyRef(name="iso9001-release", digest="a915148868c7fb108f8ed5f7ab932d42" * 2),
        rules=rules,
        waivers=(
            WaiverUse(
                rule="tests-green",
                approved_by="qa-lead",
                expires=dt.date(2026, 5, 31),
                status="expired",
                message="a waiver by qa-lead expired on 2026-05-31; it no longer applies",
            ),
        ),
        evaluated_at=dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC),
    )


def regenerate() -> None:
    """Write the golden files from the current renderers."""
    GOLDEN.mkdir(parents=True, exist_ok=True)
    (GOLDEN / "verdict.txt").write_text(verdict_text(sample_verdict(), sample_facts()), "utf-8")
    (GOLDEN / "verdict.md").write_text(verdict_markdown(sample_verdict(), sample_facts()), "utf-8")
    (GOLDEN / "verdict_limit_1500.md").write_text(
        verdict_markdown(sample_verdict(), sample_facts(40), limit=1500), "utf-8"
    )


if __name__ == "__main__":
    regenerate()
