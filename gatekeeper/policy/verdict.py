"""The Verdict: every rule's outcome with actual values, expected bound and one sentence."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, JsonValue

from gatekeeper.facts import Facts
from gatekeeper.policy.model import Severity

Outcome = Literal["pass", "fail", "warn", "waived", "skipped", "error"]
OUTCOMES: tuple[Outcome, ...] = ("fail", "error", "warn", "waived", "pass", "skipped")
"""Every outcome, most urgent first (the order renderers list rules in)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PolicyRef(_Frozen):
    """Which policy judged: its name and SHA-256 digest (see `gatekeeper.policy.load`)."""

    name: str
    digest: str


class RuleResult(_Frozen):
    """One rule's outcome: what it read (`actual`), the bound (`expected`) and why (`message`)."""

    id: str
    title: str
    outcome: Outcome
    actual: JsonValue = None
    expected: str | None = None
    message: str
    clause: str | None = None
    severity: Severity = "block"
    metric: str | None = None

    @property
    def blocks(self) -> bool:
        """Whether this result fails the gate: a failed rule, or an error in a blocking rule."""
        return self.outcome == "fail" or (self.outcome == "error" and self.severity == "block")


class WaiverUse(_Frozen):
    """What became of one waiver in this evaluation (ISO 9001 8.7)."""

    rule: str
    reason: str | None = None
    approved_by: str
    expires: dt.date
    ticket: str | None = None
    status: Literal["applied", "expired", "out_of_scope", "unused"]
    message: str


class Verdict(_Frozen):
    """The gate's decision: `fail` when any blocking rule fails; warnings do not fail it."""

    verdict: Literal["pass", "fail"]
    policy: PolicyRef
    rules: tuple[RuleResult, ...]
    waivers: tuple[WaiverUse, ...] = ()
    evaluated_at: dt.datetime

    @property
    def passed(self) -> bool:
        """Whether the gate passed."""
        return self.verdict == "pass"

    def counts(self) -> dict[Outcome, int]:
        """How many rules ended with each outcome (every outcome present, most urgent first)."""
        return {outcome: sum(r.outcome == outcome for r in self.rules) for outcome in OUTCOMES}

    def to_json_dict(self, facts: Facts | None = None) -> dict[str, Any]:
        """The `--format json` object of `gatekeeper evaluate`, with the facts when given."""
        data = self.model_dump(mode="json")
        if facts is not None:
            data["facts"] = facts.to_json_dict()
        return data
