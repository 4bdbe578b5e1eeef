"""Evaluating a loaded policy over facts: the Verdict."""

from __future__ import annotations

import datetime as dt

from gatekeeper.facts import Facts
from gatekeeper.policy._scope import skip_reason
from gatekeeper.policy.load import LoadedPolicy
from gatekeeper.policy.rules import EvalContext, result
from gatekeeper.policy.verdict import RuleResult, Verdict
from gatekeeper.policy.waivers import apply_waivers


def evaluate(policy: LoadedPolicy, facts: Facts, *, now: dt.datetime) -> Verdict:
    """Every rule's result over `facts`, waivers applied; `now` is the injected clock's time."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    context = EvalContext(facts=facts, now=now, cel_reads=policy.cel_reads)
    results: list[RuleResult] = []
    for rule in policy.rules:
        reason = skip_reason(rule.spec.when, facts)
        if reason is not None:
            results.append(result(rule.spec, "skipped", reason))
        else:
            results.append(rule.evaluate(facts, context))
    results, uses = apply_waivers(policy.policy.waivers, results, facts, now)
    failed = any(item.blocks for item in results)
    return Verdict(
        verdict="fail" if failed else "pass",
        policy=policy.ref,
        rules=tuple(results),
        waivers=tuple(uses),
        evaluated_at=now.astimezone(dt.UTC),
    )
