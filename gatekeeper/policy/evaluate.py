"""Evaluating a loaded policy over facts: the Verdict."""

from __future__ import annotations

import datetime as dt

from gatekeeper.errors import PolicyError
from gatekeeper.facts import Facts
from gatekeeper.policy._budget import DEFAULT_BUDGET_S
from gatekeeper.policy._scope import skip_reason
from gatekeeper.policy.load import LoadedPolicy
from gatekeeper.policy.rules import CelRule, EvalContext, ExpressionBudgetError, result
from gatekeeper.policy.verdict import RuleResult, Verdict
from gatekeeper.policy.waivers import apply_waivers


def evaluate(
    policy: LoadedPolicy, facts: Facts, *, now: dt.datetime, budget: float = DEFAULT_BUDGET_S
) -> Verdict:
    """Every rule's result over `facts`, waivers applied; `now` is the injected clock's time.

    Each CEL expression may run `budget` seconds; one that runs longer is a PolicyError naming
    its rule (exit 2), not a hung CI job."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    active = [rule for rule in policy.rules if skip_reason(rule.spec.when, facts) is None]
    programs = tuple(rule.program for rule in active if isinstance(rule, CelRule))
    context = EvalContext(
        facts=facts, now=now, cel_reads=policy.cel_reads, cel_programs=programs, budget=budget
    )
    results: list[RuleResult] = []
    try:
        for rule in policy.rules:
            reason = skip_reason(rule.spec.when, facts)
            if reason is not None:
                results.append(result(rule.spec, "skipped", reason))
            else:
                results.append(rule.evaluate(facts, context))
    except ExpressionBudgetError as error:
        slow = next(
            rule.spec.id
            for rule in policy.rules
            if isinstance(rule, CelRule) and rule.program is error.program
        )
        raise PolicyError(
            policy.source,
            f"rule '{slow}': the expression ran longer than its budget of {error.budget:g} s "
            "over these facts; simplify it (nested comprehensions over long lists)",
        ) from error
    results, uses = apply_waivers(policy.policy.waivers, results, facts, now)
    failed = any(item.blocks for item in results)
    return Verdict(
        verdict="fail" if failed else "pass",
        policy=policy.ref,
        rules=tuple(results),
        waivers=tuple(uses),
        evaluated_at=now.astimezone(dt.UTC),
    )
