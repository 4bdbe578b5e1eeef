"""Small factories shared by the policy tests."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path
from typing import Any

from gatekeeper.facts import Change, Coverage, Facts, Reviews, TestFailure, TestSummary
from gatekeeper.policy import LoadedPolicy, Verdict, evaluate, load_policy

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def write(folder: Path, text: str, name: str = "policy.yml") -> Path:
    """Write dedented `text` to `folder/name` and return the path."""
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def policy_of(folder: Path, rules: str, extra: str = "") -> LoadedPolicy:
    """Load a policy named `t` with the given (dedented) rules block."""
    body = "version: 1\nname: t\nrules:\n" + textwrap.indent(textwrap.dedent(rules), "  ")
    return load_policy(write(folder, body + textwrap.dedent(extra)))


def facts(**sections: Any) -> Facts:
    """Facts with a green test run and 85% line coverage, sections overridable."""
    base: dict[str, Any] = {
        "tests": TestSummary(total=10, passed=10, failed=0, errors=0, skipped=0),
        "coverage": Coverage(lines_valid=100, lines_covered=85, line_rate=0.85),
    }
    base.update(sections)
    return Facts(**base)


def failing_tests(count: int = 2) -> TestSummary:
    """A run where `count` of 10 tests failed."""
    failures = tuple(
        TestFailure(
            name=f"test_{i}",
            classname="pkg.test_mod",
            file="pkg/test_mod.py",
            line=i,
            message=f"assert {i} == 0",
        )
        for i in range(count)
    )
    return TestSummary(
        total=10, passed=10 - count, failed=count, errors=0, skipped=0, failures=failures
    )


def change(**fields: Any) -> Change:
    """A change record with the given fields."""
    return Change(**fields)


def reviews(approvals: int) -> Reviews:
    """Reviews with `approvals` approvals."""
    return Reviews(approvals=approvals, approvers=tuple(f"r{i}" for i in range(approvals)))


def run(policy: LoadedPolicy, given: Facts, now: dt.datetime = NOW) -> Verdict:
    """Evaluate at the fixed test clock."""
    return evaluate(policy, given, now=now)


def outcome(verdict: Verdict, rule_id: str) -> str:
    """The outcome of one rule."""
    return next(rule.outcome for rule in verdict.rules if rule.id == rule_id)


def message(verdict: Verdict, rule_id: str) -> str:
    """The sentence of one rule."""
    return next(rule.message for rule in verdict.rules if rule.id == rule_id)
