"""A policy carried as a document, and re-evaluating a claimed verdict with the same engine.

`policy_document(loaded)` is the merged policy as plain JSON values (rules and waivers of every
file it extends, `extends` itself dropped), what `evaluate --submit` carries in the predicate so
that the service and an auditor can evaluate it again. A policy with Rego rules reads module files
that the document does not hold, so it has no document (None): its records are not recomputable.

`first_difference(...)` evaluates the document over the facts at the evaluation time (waiver
expiry is judged then, not now) and names the first rule whose outcome differs from the claim, or
a verdict that does not follow; None when everything follows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gatekeeper.errors import PolicyError
from gatekeeper.facts import Facts
from gatekeeper.policy._build import Origin, build_rules
from gatekeeper.policy._yaml import Positions, validate
from gatekeeper.policy.evaluate import evaluate
from gatekeeper.policy.load import LoadedPolicy
from gatekeeper.policy.model import Policy
from gatekeeper.policy.verdict import Verdict

__all__ = ["DOCUMENT_SOURCE", "first_difference", "load_document", "policy_document"]

DOCUMENT_SOURCE = "the policy document"


def policy_document(loaded: LoadedPolicy) -> dict[str, Any] | None:
    """The merged policy as JSON values, or None when it has Rego rules (modules not carried)."""
    if any(rule.rego is not None for rule in loaded.policy.rules):
        return None
    return loaded.policy.model_dump(mode="json", exclude_none=True, exclude={"extends"})


def load_document(document: Any, digest: str) -> LoadedPolicy:
    """The policy of a carried document, compiled; PolicyError (file: the document) if unusable."""
    positions = Positions()
    policy = validate(Policy, document, DOCUMENT_SOURCE, positions)
    if policy.extends is not None or any(rule.rego is not None for rule in policy.rules):
        raise PolicyError(DOCUMENT_SOURCE, "a carried policy may not extend or use Rego modules")
    if not policy.rules:
        raise PolicyError(DOCUMENT_SOURCE, "the policy has no rules")
    folder: Traversable = Path(".")
    rules = [
        (rule, Origin(DOCUMENT_SOURCE, folder, positions, i)) for i, rule in enumerate(policy.rules)
    ]
    waivers = [
        (waiver, Origin(DOCUMENT_SOURCE, folder, positions, i))
        for i, waiver in enumerate(policy.waivers)
    ]
    built = build_rules(rules, waivers)
    return LoadedPolicy(
        policy=policy,
        rules=built.rules,
        digest=digest,
        files=(),
        source=DOCUMENT_SOURCE,
        cel_reads=built.cel_reads,
    )


def _facts(value: Mapping[str, Any]) -> Facts:
    try:
        return Facts.model_validate(dict(value))
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "facts"
        raise PolicyError("the facts", f"{where}: {first['msg']}") from error


def recompute(loaded: LoadedPolicy, facts: Mapping[str, Any], at: dt.datetime) -> Verdict:
    """The verdict of `loaded` over the carried facts at evaluation time `at`."""
    return evaluate(loaded, _facts(facts), now=at)


def first_difference(
    loaded: LoadedPolicy,
    facts: Mapping[str, Any],
    at: dt.datetime,
    verdict: str,
    rules: Sequence[tuple[str, str]],
) -> str | None:
    """One sentence naming the first rule (or the verdict) that does not follow, or None."""
    again = recompute(loaded, facts, at)
    claimed = dict(rules)
    for result in again.rules:
        said = claimed.pop(result.id, None)
        if said is None:
            return f"rule {result.id!r} is missing from the statement (it is {result.outcome})"
        if said != result.outcome:
            return (
                f"rule {result.id!r} is {said} in the statement but evaluates to {result.outcome}"
            )
    if claimed:
        extra = next(iter(claimed))
        return f"rule {extra[:100]!r} is in the statement but not in its policy"
    if verdict != again.verdict:
        return f"the verdict is {verdict} in the statement but evaluates to {again.verdict}"
    return None
