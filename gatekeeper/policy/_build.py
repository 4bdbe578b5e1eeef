"""Compiling merged rules into rule objects; every problem is a PolicyError at its file:line:col."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path

from gatekeeper.errors import PolicyError
from gatekeeper.policy._budget import DEFAULT_BUDGET_S
from gatekeeper.policy._refs import cel_references, line_column, rego_references
from gatekeeper.policy._yaml import Loc, Mark, Positions
from gatekeeper.policy.cel import (
    CelBudgetError,
    CelError,
    compile_expression,
    failure_fields,
    type_check,
)
from gatekeeper.policy.facts_lookup import fact_kind, is_fact, unknown_fact_message
from gatekeeper.policy.model import Rule, Waiver
from gatekeeper.policy.problems import raise_problems
from gatekeeper.policy.rego import RegoCompileError, compile_module
from gatekeeper.policy.rules import CelRule, RegoRule, RuleCheck, ThresholdRule


@dataclass(frozen=True)
class Origin:
    """Where a rule or waiver came from: file, folder, node positions, index in its list."""

    source: str
    folder: Traversable
    positions: Positions
    index: int

    def mark(self, loc: Loc) -> Mark | None:
        """The position of the node at `loc`."""
        return self.positions.of(loc)

    def error(self, loc: Loc, message: str) -> PolicyError:
        """A PolicyError at the node at `loc` of this file."""
        mark = self.mark(loc)
        return PolicyError(
            self.source,
            message,
            line=mark.line if mark else None,
            column=mark.column if mark else None,
        )


@dataclass(frozen=True)
class Built:
    """Compiled rules, the Rego module files they read (for the digest), facts CEL reads."""

    rules: tuple[RuleCheck, ...]
    modules: tuple[tuple[str, bytes], ...]
    cel_reads: frozenset[str]


def _threshold_rule(rule: Rule, origin: Origin) -> ThresholdRule:
    at = ("rules", origin.index)
    metric = str(rule.metric)
    if not is_fact(metric):
        raise origin.error((*at, "metric"), f"rule '{rule.id}': {unknown_fact_message(metric)}")
    kind = fact_kind(metric)
    threshold = rule.threshold
    if kind in ("section", "text"):
        raise origin.error(
            (*at, "metric"), f"rule '{rule.id}': {metric} is not a number; compare it with expr"
        )
    if kind == "bool":
        if not isinstance(threshold, bool) or rule.op not in ("==", "!="):
            raise origin.error(
                (*at, "threshold"),
                f"rule '{rule.id}': {metric} is true or false; use op == or != "
                "with threshold true or false",
            )
    elif isinstance(threshold, bool):
        raise origin.error(
            (*at, "threshold"), f"rule '{rule.id}': threshold for {metric} must be a number"
        )
    elif kind == "rate" and not 0 <= float(threshold or 0) <= 1:
        raise origin.error(
            (*at, "threshold"),
            f"rule '{rule.id}': {metric} is a fraction from 0 to 1; "
            f"write {float(threshold or 0) / 100:g} for {threshold}%",
        )
    return ThresholdRule(rule)


def _expr_error(
    rule: Rule, origin: Origin, detail: str, line: int | None, col: int | None
) -> PolicyError:
    """A CEL problem at its place: the expression's line and column mapped into the YAML file."""
    mark = origin.mark(("rules", origin.index, "expr"))
    where = f" (expr {line}:{col})" if line is not None and col is not None else ""
    message = f"rule '{rule.id}': {detail}{where}"
    if mark is None:
        return PolicyError(origin.source, message)
    if line is None or col is None:
        return PolicyError(origin.source, message, line=mark.line, column=mark.column)
    if mark.style in ("|", ">"):
        return PolicyError(origin.source, message, line=mark.line + line)
    if mark.multiline:  # a folded scalar: its lines are not the expression's lines
        return PolicyError(origin.source, message, line=mark.line)
    quote = 1 if mark.style in ("'", '"') else 0
    return PolicyError(origin.source, message, line=mark.line, column=mark.column + quote + col - 1)


def _cel_rule(rule: Rule, origin: Origin) -> CelRule:
    """The compiled expression; its type probe runs later, with the others (`_probe`)."""
    source = str(rule.expr)
    reads: dict[str, None] = {}
    for reference in cel_references(source):
        if not reference.known:
            line, col = line_column(source, reference.offset)
            detail = unknown_fact_message(reference.name)
            raise _expr_error(rule, origin, detail, line, col)
        reads[reference.name] = None
    try:
        program = compile_expression(source, budget=None)
    except CelError as error:
        raise _expr_error(rule, origin, error.detail, error.line, error.column) from error
    return CelRule(rule, program, tuple(reads))


def _rego_rule(rule: Rule, origin: Origin) -> tuple[RegoRule, tuple[str, bytes]]:
    relative = str(rule.rego)
    target = origin.folder.joinpath(relative)
    name = str(target) if isinstance(origin.folder, Path) else f"policies/{relative}"
    try:
        data = target.read_bytes()
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise origin.error(
            ("rules", origin.index, "rego"), f"rule '{rule.id}': cannot read Rego module {name}"
        ) from error
    reads: dict[str, None] = {}
    for reference in rego_references(text):
        if not reference.known:
            line, col = line_column(text, reference.offset)
            message = (
                f"rule '{rule.id}': input.{reference.name}: {unknown_fact_message(reference.name)}"
            )
            raise PolicyError(name, message, line=line, column=col)
        reads[reference.name] = None
    try:
        module = compile_module(Path(name), text)
    except RegoCompileError as error:
        raise PolicyError(
            name, f"rule '{rule.id}': {error.detail}", line=error.line, column=error.column
        ) from error
    return RegoRule(rule, module, tuple(reads)), (name, data)


def unknown_rule_hint(rule_id: str, rule_ids: Sequence[str]) -> str:
    """'; did you mean X?' with the closest rule id, else the list of rule ids."""
    close = difflib.get_close_matches(rule_id, list(rule_ids), n=1)
    return f"; did you mean {close[0]}?" if close else f"; rules: {', '.join(rule_ids)}"


def _check_waiver(waiver: Waiver, origin: Origin, rule_ids: Sequence[str]) -> None:
    if waiver.rule in rule_ids:
        return
    hint = unknown_rule_hint(waiver.rule, rule_ids)
    raise origin.error(
        ("waivers", origin.index, "rule"), f"waiver for unknown rule '{waiver.rule}'{hint}"
    )


def _probe(cel_rules: Sequence[tuple[CelRule, Origin]], budget: float) -> list[PolicyError]:
    """Type problems of the CEL rules over the probe facts, each probe within `budget` s."""
    try:
        problems = type_check([rule.program for rule, _ in cel_rules], budget)
    except CelBudgetError as error:
        rule, origin = cel_rules[error.index]
        detail = (
            f"the expression ran longer than its budget of {error.budget:g} s over sample facts "
            "of one item per list; nested comprehensions over long lists can run for hours"
        )
        return [_expr_error(rule.spec, origin, detail, None, None)]
    return [
        _expr_error(rule.spec, origin, problem, None, None)
        for (rule, origin), problem in zip(cel_rules, problems, strict=True)
        if problem is not None
    ]


def build_rules(
    rules: Sequence[tuple[Rule, Origin]],
    waivers: Sequence[tuple[Waiver, Origin]],
    *,
    budget: float = DEFAULT_BUDGET_S,
) -> Built:
    """Compile every rule (CEL and Rego once, here) and check every waiver names a rule;
    CEL type probes run `budget` seconds at most each. Every problem is reported, together."""
    built: list[RuleCheck] = []
    cel_rules: list[tuple[CelRule, Origin]] = []
    modules: list[tuple[str, bytes]] = []
    cel_reads: set[str] = set()
    problems: list[PolicyError] = []
    for rule, origin in rules:
        try:
            if rule.metric is not None:
                built.append(_threshold_rule(rule, origin))
            elif rule.expr is not None:
                cel_rule = _cel_rule(rule, origin)
                cel_rules.append((cel_rule, origin))
                cel_reads.update(cel_rule.reads)
                if "tests.failures" in cel_rule.reads:
                    cel_reads.update(failure_fields(cel_rule.program.source))
                built.append(cel_rule)
            else:
                rego_rule, module_file = _rego_rule(rule, origin)
                modules.append(module_file)
                built.append(rego_rule)
        except PolicyError as error:
            problems.append(error)
    problems += _probe(cel_rules, budget)
    rule_ids = [rule.id for rule, _ in rules]
    for waiver, origin in waivers:
        try:
            _check_waiver(waiver, origin, rule_ids)
        except PolicyError as error:
            problems.append(error)
    raise_problems(problems)
    return Built(tuple(built), tuple(modules), frozenset(cel_reads))
