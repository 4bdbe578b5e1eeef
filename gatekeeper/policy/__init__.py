"""The policy engine: load a policy file, evaluate it over the facts, get a Verdict.

policy = load_policy("policies/iso9001-release.yml")
verdict = evaluate(policy, facts, now=datetime.now(UTC))
"""

from gatekeeper.policy.evaluate import evaluate
from gatekeeper.policy.facts_lookup import Missing, lookup
from gatekeeper.policy.load import LoadedPolicy, load_policy, ready_policy_names
from gatekeeper.policy.model import Policy, Rule, Waiver, WaiverScope, When
from gatekeeper.policy.verdict import OUTCOMES, Outcome, PolicyRef, RuleResult, Verdict, WaiverUse

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
