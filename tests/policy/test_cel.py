"""CEL rules: results, actual values, compile and type errors with rule id and position."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatekeeper.errors import PolicyError
from gatekeeper.facts import TestFailure, TestSummary
from gatekeeper.policy import evaluate, load_policy
from tests.policy._helpers import (
    NOW,
    facts,
    failing_tests,
    message,
    outcome,
    policy_of,
    run,
    write,
)


def _cel(expr: str) -> str:
    return f"""
    - id: c
      title: CEL rule
      expr: {expr}
    """


def test_cel_pass_and_fail_with_actual_values(tmp_path: Path) -> None:
    """A CEL rule passes when true, fails when false, and reports the facts it read."""
    policy = policy_of(tmp_path, _cel("tests.failed + tests.errors == 0"))
    assert outcome(run(policy, facts()), "c") == "pass"
    verdict = run(policy, facts(tests=failing_tests(2)))
    rule = verdict.rules[0]
    assert rule.outcome == "fail"
    assert rule.actual == {"tests.failed": 2, "tests.errors": 0}
    assert (
        rule.message
        == "tests.failed + tests.errors == 0 is false (tests.failed = 2, tests.errors = 0)"
    )


def test_cel_reads_the_failures_list(tmp_path: Path) -> None:
    """An expression may look into tests.failures with CEL macros."""
    policy = policy_of(tmp_path, _cel("'!tests.failures.exists(f, f.file.startsWith(\"pkg/\"))'"))
    assert outcome(run(policy, facts(tests=failing_tests(1))), "c") == "fail"
    assert outcome(run(policy, facts()), "c") == "pass"


def test_cel_missing_fact_fails_closed(tmp_path: Path) -> None:
    """A CEL rule reading a missing fact fails without running, naming the fact."""
    policy = policy_of(tmp_path, _cel("reviews.approvals >= 2"))
    verdict = run(policy, facts())
    assert outcome(verdict, "c") == "fail"
    assert "reviews.approvals is missing" in message(verdict, "c")


def _load_error(tmp_path: Path, expr_line: str) -> str:
    path = write(
        tmp_path, f"version: 1\nname: t\nrules:\n  - id: bad-cel\n    title: T\n    {expr_line}\n"
    )
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    return str(caught.value)


def test_cel_syntax_error_names_rule_and_position(tmp_path: Path) -> None:
    """A CEL syntax error is one line with file:line:col of the bad character and the rule id."""
    text = _load_error(tmp_path, "expr: tests.failed +")
    # `expr: ` starts at column 5, the expression at 11; the parser stops at its column 15.
    assert text.startswith(f"{tmp_path / 'policy.yml'}:6:25: rule 'bad-cel': CEL syntax error")
    assert "\n" not in text


def test_cel_type_error_names_rule(tmp_path: Path) -> None:
    """Adding a number and a string is a type error found when the policy loads."""
    text = _load_error(tmp_path, "expr: 'tests.failed + \"x\" == 0'")
    assert f"{tmp_path / 'policy.yml'}:6:11: rule 'bad-cel': CEL type error" in text


def test_cel_non_boolean_is_a_type_error(tmp_path: Path) -> None:
    """An expression that gives a number instead of true/false is rejected at load."""
    text = _load_error(tmp_path, "expr: tests.failed + 1")
    assert "rule 'bad-cel': CEL type error: the expression gives int" in text


def test_cel_unknown_fact_suggests(tmp_path: Path) -> None:
    """An unknown fact in an expression names the closest real one and its column."""
    text = _load_error(tmp_path, "expr: coverage.line_rat >= 0.8")
    assert text.startswith(f"{tmp_path / 'policy.yml'}:6:11: rule 'bad-cel': unknown fact")
    assert "did you mean coverage.line_rate?" in text


def test_cel_unknown_variable(tmp_path: Path) -> None:
    """A name that is neither a fact section nor bound by a macro is an error at load."""
    text = _load_error(tmp_path, "expr: foo > 1")
    assert "rule 'bad-cel'" in text
    assert "foo" in text


def test_cel_block_scalar_error_line(tmp_path: Path) -> None:
    """In a block scalar the error line is the expression's own line in the file."""
    path = write(
        tmp_path,
        "version: 1\nname: t\nrules:\n  - id: b\n    title: T\n    expr: |\n"
        "      tests.failed == 0 &&\n      tests.errors = 0\n",
    )
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert caught.value.line == 8


def test_cel_failure_fields_named_in_expressions_are_available(tmp_path: Path) -> None:
    """Failure fields an expression names (message, line) reach CEL, not only file."""
    expr = "'tests.failures.exists(f, f.line == 1 && f.message == \"assert 1 == 0\")'"
    policy = policy_of(tmp_path, _cel(expr))
    assert outcome(run(policy, facts(tests=failing_tests(2))), "c") == "pass"
    assert outcome(run(policy, facts(tests=failing_tests(1))), "c") == "fail"


def _many_failures(count: int) -> TestSummary:
    failures = tuple(TestFailure(name=f"test_{i}", message="x") for i in range(count))
    return TestSummary(total=count, passed=0, failed=count, errors=0, skipped=0, failures=failures)


_SLOW_OVER_FACTS = (
    "'tests.failures.all(a, tests.failures.all(b, tests.failures.all(c, "
    "a.name + b.name != c.name)))'"
)


def test_expression_running_past_its_budget_stops_the_evaluation_naming_the_rule(
    tmp_path: Path,
) -> None:
    """An expression cheap on the load-time probe but cubic over 600 real failures is stopped
    after its budget with a sentence naming the rule, not left to hang the CI job."""
    path = write(tmp_path, f"version: 1\nname: t\nrules:\n{_cel(_SLOW_OVER_FACTS)}")
    policy = load_policy(path, budget=0.3)
    with pytest.raises(PolicyError) as caught:
        evaluate(policy, facts(tests=_many_failures(600)), now=NOW, budget=0.3)
    assert "rule 'c': the expression ran longer than its budget of 0.3 s" in str(caught.value)


def test_type_probe_running_past_its_budget_is_a_load_error_naming_the_rule(
    tmp_path: Path,
) -> None:
    """An expression whose load-time probe alone runs too long (nested comprehensions over a
    long literal list) is refused when the policy loads, at the rule's place."""
    items = ",".join(["1"] * 400)
    expr = f"'[{items}].all(a, [{items}].all(b, [{items}].all(c, a + b + c > 0)))'"
    path = write(tmp_path, f"version: 1\nname: t\nrules:\n{_cel(expr)}")
    with pytest.raises(PolicyError) as caught:
        load_policy(path, budget=0.3)
    text = str(caught.value)
    assert "rule 'c': the expression ran longer than its budget of 0.3 s" in text
    assert "policy.yml:7:13: " in text


def test_expressions_within_budget_give_the_same_results(tmp_path: Path) -> None:
    """Rules run in the budgeted worker keep their results, values and runtime errors."""
    rules = """
    - id: c
      expr: tests.failed == 0
    - id: d
      expr: tests.failed / (tests.total - tests.total) == 0
    """
    policy = policy_of(tmp_path, rules)
    verdict = evaluate(policy, facts(tests=failing_tests(2)), now=NOW, budget=1.0)
    assert outcome(verdict, "c") == "fail"
    assert outcome(verdict, "d") == "error"
    assert "the expression failed" in message(verdict, "d")
