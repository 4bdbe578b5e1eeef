"""Smaller behaviours: explain, globs, odd expressions, Rego run-time problems, JSON shape."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gatekeeper.errors import PolicyError
from gatekeeper.facts import Facts, TestSummary
from gatekeeper.policy import load_policy
from gatekeeper.policy._glob import glob_match
from gatekeeper.policy.explain import explain_policy
from tests.policy._helpers import facts, message, outcome, policy_of, run, write

EXPLAINED = """\
version: 1
name: explained
description: Gate of the payments service.
rules:
  - id: cov
    title: Coverage
    metric: coverage.line_rate
    op: ">="
    threshold: 0.8
    clause: "8.3.4"
  - id: cel
    title: Green
    expr: tests.failed == 0
    severity: warn
    on_missing: skip
    when: {branches: [main], events: [push], labels: [risky], paths: ["src/**"]}
  - id: rego
    title: Rego
    rego: r.rego
    on_missing: warn
waivers:
  - rule: cov
    reason: legacy
    approved_by: qa
    expires: 2026-12-31
    ticket: QA-1
"""


def test_explain_every_rule_in_words(tmp_path: Path) -> None:
    """explain describes each condition, its effect, missing facts, clause, scope and waivers."""
    (tmp_path / "r.rego").write_text("package x\nimport rego.v1\ndeny contains 1 if { false }\n")
    text = explain_policy(load_policy(write(tmp_path, EXPLAINED)))
    assert "line coverage (coverage.line_rate) must be at least 80.0%" in text
    assert (
        "blocks the gate; a missing fact counts as a failure. Evidence for ISO 9001 clause" in text
    )
    assert "the CEL expression `tests.failed == 0` must be true; otherwise it only warns" in text
    assert (
        "Applies only on branches main and for events push and with a label risky and "
        "when the change touches src/**." in text
    )
    assert "the Rego module r.rego must deny nothing" in text
    assert "a missing fact gives a warning" in text
    assert "waiver: cov is conceded until 2026-12-31 by qa (legacy, QA-1)" in text
    assert "Gate of the payments service." in text


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("src/**", "src/a/b.py", True),
        ("**/*.py", "a.py", True),
        ("src/*.py", "src/a/b.py", False),
        ("file?.txt", "file1.txt", True),
        ("docs/", "docs/x/y.md", True),
        ("release/*", "release/1.0", True),
        ("src/**/test_*.py", "src/test_a.py", True),
        ("src/**/test_*.py", "src/a/b/test_a.py", True),
        ("src/**/test_*.py", "srcx/test_a.py", False),
        ("a**b", "a/x/b", True),
        ("*.py", ".py", True),
    ],
)
def test_globs(pattern: str, value: str, expected: bool) -> None:
    """`*` stays in a folder, `**` spans folders, `?` is one character, `dir/` is the folder."""
    assert glob_match(pattern, value) is expected


@pytest.mark.parametrize(
    ("pattern", "value"),
    [
        ("*a" * 30 + "b", "a" * 5000),
        ("**/" * 30 + "x", "a/" * 3000 + "y"),
        ("**a" * 30 + "b", "a/" * 3000),
    ],
)
def test_pathological_globs_finish(pattern: str, value: str) -> None:
    """A glob that makes a backtracking matcher run for hours is answered at once (it runs in
    time proportional to pattern length times path length)."""
    assert glob_match(pattern, value) is False


def test_metric_on_text_fact_is_rejected(tmp_path: Path) -> None:
    """A threshold on a text fact points the author to expr."""
    rule = "- id: t\n  title: T\n  metric: change.title\n  op: '=='\n  threshold: 1\n"
    with pytest.raises(PolicyError, match="is not a number; compare it with expr"):
        policy_of(tmp_path, rule)


def test_bool_metric_needs_equality(tmp_path: Path) -> None:
    """A true/false fact with `>=` is rejected."""
    rule = (
        "- id: t\n  title: T\n  metric: reviews.codeowners_approved\n  op: '>='\n"
        "  threshold: true\n"
    )
    with pytest.raises(PolicyError, match="use op == or !="):
        policy_of(tmp_path, rule)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ("  metric: tests.total\n  op: '>'\n", "metric needs both op and threshold"),
        ("  expr: tests.total > 0\n  op: '>'\n", "op and threshold go only with metric"),
        ("", "needs exactly one of metric, expr or rego (found none)"),
    ],
)
def test_condition_shapes(tmp_path: Path, fields: str, expected: str) -> None:
    """Half a threshold condition, or none at all, is rejected."""
    with pytest.raises(PolicyError, match=re.escape(expected)):
        policy_of(tmp_path, "- id: t\n  title: T\n" + fields)


def test_cel_unknown_field_of_a_failure(tmp_path: Path) -> None:
    """A field that test failures do not have is an error at load."""
    rule = "- id: t\n  title: T\n  expr: 'tests.failures.all(f, f.nosuch == 1)'\n"
    with pytest.raises(PolicyError, match="no field 'nosuch'"):
        policy_of(tmp_path, rule)


def test_cel_error_in_a_folded_quoted_expression(tmp_path: Path) -> None:
    """A quoted expression folded over lines is located at its first line, without a column."""
    path = write(
        tmp_path,
        'version: 1\nname: t\nrules:\n  - id: q\n    title: T\n    expr: "tests.failed == 0 &&\n'
        '      tests.errors = 0"\n',
    )
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert (caught.value.line, caught.value.column) == (6, None)


def test_rego_without_package(tmp_path: Path) -> None:
    """A Rego module without a package is a compile error at line 1."""
    (tmp_path / "r.rego").write_text("deny contains 1 if { true }\n")
    rule = "- id: t\n  title: T\n  rego: r.rego\n"
    with pytest.raises(PolicyError, match="no package declaration") as caught:
        policy_of(tmp_path, rule)
    assert caught.value.line == 1


def test_rego_runtime_error_is_an_error_outcome(tmp_path: Path) -> None:
    """A module that fails while running (a conflict) ends as error, naming the module."""
    (tmp_path / "r.rego").write_text(
        "package x\nimport rego.v1\ndeny := input.tests.total\n", encoding="utf-8"
    )
    policy = policy_of(tmp_path, "- id: t\n  title: T\n  rego: r.rego\n")
    verdict = run(policy, facts())
    assert outcome(verdict, "t") == "error"
    assert "not a set of messages" in message(verdict, "t")


def test_non_string_deny_messages_are_json(tmp_path: Path) -> None:
    """Deny set members that are not strings are shown as JSON."""
    (tmp_path / "r.rego").write_text(
        'package x\nimport rego.v1\ndeny contains {"n": input.tests.total} if { true }\n',
        encoding="utf-8",
    )
    verdict = run(policy_of(tmp_path, "- id: t\n  title: T\n  rego: r.rego\n"), facts())
    assert message(verdict, "t") == '{"n": 10}'


def test_duration_and_float_sentences(tmp_path: Path) -> None:
    """Durations read in seconds and counts without decimals."""
    rule = "- id: d\n  title: D\n  metric: tests.duration_s\n  op: '<'\n  threshold: 60.5\n"
    slow = facts(
        tests=TestSummary(total=1, passed=1, failed=0, errors=0, skipped=0, duration_s=75.25)
    )
    assert message(run(policy_of(tmp_path, rule), slow), "d") == (
        "test duration 75.25s is not below the allowed 60.5s"
    )


def test_verdict_json_without_facts_and_counts(tmp_path: Path) -> None:
    """to_json_dict leaves facts out when none are given; counts cover every outcome."""
    rule = "- id: d\n  title: D\n  metric: tests.total\n  op: '>'\n  threshold: 0\n"
    verdict = run(policy_of(tmp_path, rule), Facts())
    data = verdict.to_json_dict()
    assert "facts" not in data
    assert data["rules"][0]["outcome"] == "fail"
    assert verdict.counts()["fail"] == 1
    assert sum(verdict.counts().values()) == 1
