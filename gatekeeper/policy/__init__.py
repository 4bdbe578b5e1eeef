"""The policy engine: load a policy file, evaluate it over the facts, get a Verdict.

policy = load_policy("policies/iso9001-release.yml")
verdict = evaluate(policy, facts, now=datetime.now(UTC))
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gatekeeper.policy.evaluate import evaluate
    from gatekeeper.policy.facts_lookup import Missing, lookup
    from gatekeeper.policy.load import LoadedPolicy, load_policy, ready_policy_names
    from gatekeeper.policy.model import Policy, Rule, Waiver, WaiverScope, When
    from gatekeeper.policy.verdict import (
        OUTCOMES,
        Outcome,
        PolicyRef,
        RuleResult,
        Verdict,
        WaiverUse,
    )

# Imported on first use, so that importing one light module does not load the whole package.
_EXPORTS = {
    "evaluate": "gatekeeper.policy.evaluate",
    "Missing": "gatekeeper.policy.facts_lookup",
    "lookup": "gatekeeper.policy.facts_lookup",
    "LoadedPolicy": "gatekeeper.policy.load",
    "load_policy": "gatekeeper.policy.load",
    "ready_policy_names": "gatekeeper.policy.load",
    "Policy": "gatekeeper.policy.model",
    "Rule": "gatekeeper.policy.model",
    "Waiver": "gatekeeper.policy.model",
    "WaiverScope": "gatekeeper.policy.model",
    "When": "gatekeeper.policy.model",
    "OUTCOMES": "gatekeeper.policy.verdict",
    "Outcome": "gatekeeper.policy.verdict",
    "PolicyRef": "gatekeeper.policy.verdict",
    "RuleResult": "gatekeeper.policy.verdict",
    "Verdict": "gatekeeper.policy.verdict",
    "WaiverUse": "gatekeeper.policy.verdict",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "OUTCOMES",
    "LoadedPolicy",
    "Missing",
    "Outcome",
    "Policy",
    "PolicyRef",
    "Rule",
    "RuleResult",
    "Verdict",
    "Waiver",
    "WaiverScope",
    "WaiverUse",
    "When",
    "evaluate",
    "load_policy",
    "lookup",
    "ready_policy_names",
]
