"""Rules as small objects with one method: `evaluate(facts, context) -> RuleResult`.

Every result carries the actual values read, the expected bound and one human sentence. A rule
that needs a fact no source gave fails (fail closed) unless its `on_missing` says warn or skip.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from gatekeeper.facts import Facts
from gatekeeper.policy._budget import DEFAULT_BUDGET_S
from gatekeeper.policy._sentence import expr_sentence
from gatekeeper.policy.cel import (
    Activation,
    CelBudgetError,
    CelProgram,
    CelRuntimeError,
    build_activation,
    run_programs,
)
from gatekeeper.policy.facts_lookup import Missing, fact_kind, lookup
from gatekeeper.policy.model import Op, Rule
from gatekeeper.policy.rego import RegoModule, RegoRuntimeError
from gatekeeper.policy.verdict import Outcome, RuleResult

_OPS: dict[Op, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    ">": operator.gt,
}
_FAILED: dict[Op, str] = {
    ">=": "is below the required",
    ">": "is not above the required",
    "<=": "is above the allowed",
    "<": "is not below the allowed",
    "==": "is not the required",
    "!=": "is the forbidden",
}
_PASSED: dict[Op, str] = {
    ">=": "meets the required",
    ">": "is above the required",
    "<=": "is within the allowed",
    "<": "is below the allowed",
    "==": "is the required",
    "!=": "differs from the forbidden",
}
LABELS: dict[str, str] = {
    "tests.total": "test count",
    "tests.passed": "passed tests",
    "tests.failed": "failed tests",
    "tests.errors": "tests in error",
    "tests.skipped": "skipped tests",
    "tests.flaky": "flaky tests",
    "tests.duration_s": "test duration",
    "tests.failures": "test failures",
    "coverage.line_rate": "line coverage",
    "coverage.branch_rate": "branch coverage",
    "coverage.patch.rate": "patch coverage",
    "reviews.approvals": "approvals",
    "reviews.changes_requested": "requests for changes",
    "reviews.stale_approvals": "stale approvals",
    "reviews.codeowners_approved": "code owner approval",
    "checks.failed": "failed checks",
    "change.linked_issues": "linked issues",
    "coverage.delta": "line coverage change against the base",
    "tests.new_failures": "new failures against the base",
    "tests.newly_skipped": "newly skipped tests",
    "findings.total": "findings",
    "findings.new": "new findings",
}


class ExpressionBudgetError(Exception):
    """`program` ran longer than `budget` seconds over the facts."""

    def __init__(self, program: CelProgram, budget: float) -> None:
        super().__init__(f"the expression ran longer than {budget:g} s")
        self.program = program
        self.budget = budget


@dataclass
class EvalContext:
    """What one evaluation shares between rules: the clock, facts converted once, and the
    values of its CEL programs, computed together in one worker under `budget` s each."""

    facts: Facts
    now: dt.datetime
    cel_reads: frozenset[str] = frozenset()
    cel_programs: tuple[CelProgram, ...] = ()
    budget: float = DEFAULT_BUDGET_S
    _activation: Activation | None = field(default=None, repr=False)
    _input_json: str | None = field(default=None, repr=False)
    _cel_values: dict[int, Any] = field(default_factory=dict, repr=False)

    def cel_value(self, program: CelProgram) -> Any:
        """The value of `program` over the facts; raises CelRuntimeError or
        ExpressionBudgetError."""
        if id(program) not in self._cel_values:
            waiting = [p for p in self.cel_programs if id(p) not in self._cel_values]
            batch = waiting if any(p is program for p in waiting) else [program]
            try:
                values = run_programs(batch, self.activation(), self.budget)
            except CelBudgetError as error:
                raise ExpressionBudgetError(batch[error.index], error.budget) from error
            self._cel_values.update((id(p), v) for p, v in zip(batch, values, strict=True))
        value = self._cel_values[id(program)]
        if isinstance(value, CelRuntimeError):
            raise value
        return value

    def activation(self) -> Activation:
        """The CEL activation, built on first use and reused by every CEL rule."""
        if self._activation is None:
            self._activation = build_activation(self.facts, self.cel_reads)
        return self._activation

    def input_json(self) -> str:
        """The facts as the JSON `input` document of Rego rules, built on first use."""
        if self._input_json is None:
            self._input_json = json.dumps(self.facts.to_json_dict())
        return self._input_json


class RuleCheck(Protocol):
    """A compiled rule."""

    spec: Rule

    def evaluate(self, facts: Facts, context: EvalContext) -> RuleResult:
        """This rule's result over `facts`."""
        ...


def label(name: str) -> str:
    """The words for fact `name` in sentences."""
    return LABELS.get(name, name)


def display(name: str | None, value: Any) -> str:
    """A value as a person reads it: rates as percentages, durations in seconds."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if name is not None and fact_kind(name) == "rate" and isinstance(value, int | float):
        return f"{value * 100:.1f}%"
    if name == "tests.duration_s" and isinstance(value, int | float):
        return f"{value:g}s"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _json_value(value: Any) -> Any:
    """A fact value for `actual`: lists of records become their count."""
    if isinstance(value, tuple):
        if all(isinstance(item, str) for item in value) and len(value) <= 20:
            return list(value)
        return len(value)
    return value


_OP_WORDS = {
    "<": "below",
    "<=": "at most",
    "==": "exactly",
    "!=": "anything but",
    ">=": "at least",
    ">": "above",
}
_UNTITLED_EXPR_LIMIT = 80


def op_words(op: str) -> str:
    """A comparison operator as words ("at least" for `>=`)."""
    return _OP_WORDS[op]


def rule_title(spec: Rule) -> str:
    """The rule's title, or without one its condition in words ("Line coverage at least 80.0%")."""
    if spec.title is not None:
        return spec.title
    if spec.metric is not None:
        words = (
            f"{label(spec.metric)} {op_words(str(spec.op))} {display(spec.metric, spec.threshold)}"
        )
        return words[:1].upper() + words[1:]
    if spec.expr is not None:
        sentence = expr_sentence(spec.expr, label, op_words, display)
        if sentence is not None:
            return sentence
        expr = " ".join(spec.expr.split())
        if len(expr) > _UNTITLED_EXPR_LIMIT:
            expr = expr[: _UNTITLED_EXPR_LIMIT - 1] + "…"
        return f"{expr} holds"
    return f"Rego {spec.rego} denies nothing"


def result(spec: Rule, outcome: Outcome, message: str, **values: Any) -> RuleResult:
    """A RuleResult for `spec`; a failure of a `warn` rule becomes `warn`."""
    if outcome == "fail" and spec.severity == "warn":
        outcome = "warn"
    return RuleResult(
        id=spec.id,
        title=rule_title(spec),
        outcome=outcome,
        message=message,
        clause=spec.clause,
        severity=spec.severity,
        **values,
    )


def missing_result(spec: Rule, missing: list[Missing], **values: Any) -> RuleResult:
    """The result when facts are missing: fail closed unless `on_missing` says warn or skip."""
    sentence = "; ".join(item.sentence for item in missing)
    outcomes: dict[str, Outcome] = {"fail": "fail", "warn": "warn", "skip": "skipped"}
    outcome = outcomes[spec.on_missing]
    return result(spec, outcome, sentence, **values)


_RATE_OF = {
    "coverage.line_rate": "coverage.lines_valid",
    "coverage.branch_rate": "coverage.branches_valid",
    "coverage.patch.rate": "coverage.patch.lines_valid",
}


def _nothing_measured(facts: Facts, name: str) -> bool:
    """Whether a rate is absent because there was nothing to measure (0 valid lines)."""
    counter = _RATE_OF.get(name)
    return counter is not None and lookup(facts, counter) == 0


_COUNTED: dict[str, tuple[str, str]] = {
    "tests.total": ("test ran", "tests ran"),
    "tests.failed": ("test failed", "tests failed"),
    "tests.errors": ("test errored", "tests errored"),
    "tests.skipped": ("test skipped", "tests skipped"),
    "tests.flaky": ("flaky test", "flaky tests"),
    "tests.new_failures": ("new failure against the base", "new failures against the base"),
    "tests.newly_skipped": ("test newly skipped", "tests newly skipped"),
    "reviews.approvals": ("approval", "approvals"),
    "reviews.changes_requested": ("request for changes", "requests for changes"),
    "reviews.stale_approvals": ("stale approval", "stale approvals"),
    "checks.failed": ("check failed", "checks failed"),
    "findings.total": ("finding", "findings"),
    "findings.new": ("new finding", "new findings"),
}
_BOUND_WORDS: dict[Op, str] = {
    "<=": "{} allowed",
    "<": "fewer than {} allowed",
    ">=": "{} required",
    ">": "more than {} required",
    "==": "exactly {} required",
}


def count_sentence(name: str, op: Op, value: object, bound: object) -> str | None:
    """A count compared with a bound as "14 tests failed (0 allowed)", else None."""
    nouns, words = _COUNTED.get(name), _BOUND_WORDS.get(op)
    if nouns is None or words is None or not isinstance(value, int) or isinstance(value, bool):
        return None
    shown = display(None, bound)
    return f"{value} {nouns[0] if value == 1 else nouns[1]} ({words.format(shown)})"


@dataclass
class ThresholdRule:
    """`metric op threshold`, like a SonarQube quality gate condition; lists compare by length."""

    spec: Rule

    def evaluate(self, facts: Facts, context: EvalContext) -> RuleResult:
        """Compare the metric with the threshold."""
        del context
        name, op, bound = str(self.spec.metric), self.spec.op or ">=", self.spec.threshold
        expected = f"{op} {display(name, bound)}"
        value = lookup(facts, name)
        if isinstance(value, Missing) and _nothing_measured(facts, name):
            message = f"{label(name)} does not apply: {_RATE_OF[name]} is 0"
            return result(self.spec, "skipped", message, expected=expected, metric=name)
        if isinstance(value, Missing):
            return missing_result(self.spec, [value], expected=expected, metric=name)
        if isinstance(value, tuple):
            value = len(value)
        ok = _OPS[op](value, bound)
        phrase = (_PASSED if ok else _FAILED)[op]
        message = count_sentence(name, op, value, bound) or (
            f"{label(name)} {display(name, value)} {phrase} {display(name, bound)}"
        )
        outcome: Outcome = "pass" if ok else "fail"
        return result(self.spec, outcome, message, actual=value, expected=expected, metric=name)


def _read(facts: Facts, names: tuple[str, ...]) -> tuple[dict[str, Any], list[Missing]]:
    values: dict[str, Any] = {}
    missing: list[Missing] = []
    for name in names:
        value = lookup(facts, name)
        if isinstance(value, Missing):
            missing.append(value)
        else:
            values[name] = _json_value(value)
    return values, missing


def _with_values(values: dict[str, Any]) -> str:
    if not values:
        return ""
    shown = ", ".join(f"{name} = {display(name, value)}" for name, value in values.items())
    return f" ({shown})"


@dataclass
class CelRule:
    """A CEL expression over the facts; true passes."""

    spec: Rule
    program: CelProgram
    reads: tuple[str, ...]

    def evaluate(self, facts: Facts, context: EvalContext) -> RuleResult:
        """Run the expression over the shared activation."""
        expected = f"{self.program.source} is true"
        values, missing = _read(facts, self.reads)
        if missing:
            return missing_result(self.spec, missing, actual=values or None, expected=expected)
        try:
            value = context.cel_value(self.program)
        except CelRuntimeError as error:
            return result(self.spec, "error", f"the expression failed: {error}", expected=expected)
        if not isinstance(value, bool):
            message = f"the expression gave {value!r}, not true or false"
            return result(self.spec, "error", message, expected=expected)
        verb = "holds" if value else "is false"
        message = f"{self.program.source} {verb}{_with_values(values)}"
        outcome: Outcome = "pass" if value else "fail"
        return result(self.spec, outcome, message, actual=values, expected=expected)


@dataclass
class RegoRule:
    """A Rego module whose `deny` set gives the failure messages; an empty set passes."""

    spec: Rule
    module: RegoModule
    reads: tuple[str, ...]

    def evaluate(self, facts: Facts, context: EvalContext) -> RuleResult:
        """Query the module's deny set with the facts as input."""
        expected = f"no deny messages from {self.module.path.name}"
        values, missing = _read(facts, self.reads)
        if missing:
            return missing_result(self.spec, missing, expected=expected)
        try:
            messages = self.module.deny(context.input_json())
        except RegoRuntimeError as error:
            return result(self.spec, "error", f"the Rego module failed: {error}", expected=expected)
        if not messages:
            message = f"data.{self.module.package}.deny is empty{_with_values(values)}"
            return result(self.spec, "pass", message, actual=[], expected=expected)
        return result(
            self.spec, "fail", "; ".join(messages), actual=list(messages), expected=expected
        )
