"""Each rule of a policy in plain words (`gatekeeper policy explain`)."""

from __future__ import annotations

from gatekeeper.policy.load import LoadedPolicy
from gatekeeper.policy.model import Rule, When
from gatekeeper.policy.rules import display, label, op_words, rule_title


def _condition(rule: Rule) -> str:
    if rule.metric is not None:
        bound = display(rule.metric, rule.threshold)
        return f"{label(rule.metric)} ({rule.metric}) must be {op_words(str(rule.op))} {bound}"
    if rule.expr is not None:
        return f"the CEL expression `{rule.expr}` must be true"
    return f"the Rego module {rule.rego} must deny nothing (its deny set gives the reasons)"


def _when(when: When | None) -> str:
    if when is None:
        return ""
    parts = []
    if when.branches:
        parts.append(f"on branches {', '.join(when.branches)}")
    if when.events:
        parts.append(f"for events {', '.join(when.events)}")
    if when.labels:
        parts.append(f"with a label {' or '.join(when.labels)}")
    if when.paths:
        parts.append(f"when the change touches {', '.join(when.paths)}")
    return " Applies only " + " and ".join(parts) + "." if parts else ""


def explain_rule(rule: Rule) -> str:
    """One paragraph: what the rule requires, what failing does, missing facts, clause, scope."""
    effect = "blocks the gate" if rule.severity == "block" else "only warns"
    missing = {
        "fail": "a missing fact counts as a failure",
        "warn": "a missing fact gives a warning",
        "skip": "a missing fact skips the rule",
    }[rule.on_missing]
    clause = f" Evidence for ISO 9001 clause {rule.clause}." if rule.clause else ""
    return (
        f"{rule.id} ({rule_title(rule)}): {_condition(rule)}; otherwise it {effect}; {missing}."
        f"{clause}{_when(rule.when)}"
    )


def explain_policy(policy: LoadedPolicy) -> str:
    """The whole policy in plain words: header, every rule, every waiver."""
    lines = [f"Policy {policy.name} (sha256 {policy.digest})"]
    if policy.policy.description:
        lines.append(policy.policy.description.strip())
    lines.append("")
    lines.extend(f"- {explain_rule(rule)}" for rule in policy.policy.rules)
    for waiver in policy.policy.waivers:
        ticket = f", {waiver.ticket}" if waiver.ticket else ""
        lines.append(
            f"- waiver: {waiver.rule} is conceded until {waiver.expires.isoformat()} "
            f"by {waiver.approved_by} ({waiver.reason}{ticket})"
        )
    return "\n".join(lines) + "\n"
