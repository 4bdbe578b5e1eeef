"""The policy file as frozen models: Policy, Rule, Waiver, When.

A rule has exactly one condition: `metric` + `op` + `threshold`, or `expr` (CEL), or `rego`
(a Rego module path). The JSON Schema in `policies/policy.schema.json` is generated from these.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    field_validator,
    model_validator,
)

Op = Literal["<", "<=", "==", "!=", ">=", ">"]
Severity = Literal["block", "warn"]
OnMissing = Literal["fail", "warn", "skip"]
Threshold = StrictBool | StrictInt | StrictFloat

RULE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class When(_Frozen):
    """Where a rule applies (ISO 9001 6.1, risk-based thinking); all given kinds must match."""

    branches: tuple[str, ...] = Field(
        default=(), description="Branch globs (change.branch, else subject.ref); any may match."
    )
    events: tuple[str, ...] = Field(
        default=(), description="CI events (change.event), e.g. pull_request, push, tag."
    )
    labels: tuple[str, ...] = Field(
        default=(), description="Labels (change.labels); the rule applies if any is present."
    )
    paths: tuple[str, ...] = Field(
        default=(), description="Path globs (** allowed); applies if any changed file matches."
    )


class WaiverScope(_Frozen):
    """Where a waiver holds: a branch glob and/or path globs every changed file must match."""

    branch: str | None = Field(default=None, description="Branch glob the change must be on.")
    paths: tuple[str, ...] = Field(
        default=(), description="Path globs; the waiver holds only if every changed file matches."
    )


class Waiver(_Frozen):
    """A concession (ISO 9001 8.7): a failing rule is accepted, with reason, approver and expiry."""

    rule: str = Field(description="Id of the rule this waiver concedes.")
    reason: str = Field(min_length=1)
    approved_by: str = Field(min_length=1)
    expires: dt.date = Field(description="Last day (UTC) the waiver holds.")
    ticket: str | None = None
    scope: WaiverScope | None = None


class Rule(_Frozen):
    """One acceptance criterion with exactly one condition."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["metric", "op", "threshold"]},
                {"required": ["expr"]},
                {"required": ["rego"]},
            ]
        }
    )

    id: str = Field(pattern=RULE_ID_PATTERN)
    title: str | None = Field(
        default=None,
        min_length=1,
        description="Words for people; without it the rule reads as its condition.",
    )
    description: str | None = None
    metric: str | None = Field(
        default=None, description="Dotted fact name, e.g. coverage.line_rate."
    )
    op: Op | None = None
    threshold: Threshold | None = None
    expr: str | None = Field(
        default=None, description="CEL expression over the facts; true passes."
    )
    rego: str | None = Field(
        default=None, description="Rego module path (relative to the policy file); deny fails."
    )
    severity: Severity = "block"
    on_missing: OnMissing = "fail"
    clause: str | None = Field(default=None, description='ISO 9001 clause, e.g. "8.6".')
    when: When | None = None

    @model_validator(mode="after")
    def _one_condition(self) -> Rule:
        conditions = [
            name for name in ("metric", "expr", "rego") if getattr(self, name) is not None
        ]
        if len(conditions) != 1:
            found = ", ".join(conditions) if conditions else "none"
            raise ValueError(
                f"rule '{self.id}' needs exactly one of metric, expr or rego (found {found})"
            )
        if self.metric is not None and (self.op is None or self.threshold is None):
            raise ValueError(f"rule '{self.id}': metric needs both op and threshold")
        if self.metric is None and (self.op is not None or self.threshold is not None):
            raise ValueError(f"rule '{self.id}': op and threshold go only with metric")
        return self


class Policy(_Frozen):
    """A versioned release quality gate."""

    version: Literal[1] = 1
    name: str = Field(min_length=1)
    description: str | None = None
    extends: str | None = Field(
        default=None,
        description="Another policy file (relative path) or a ready policy by name; "
        "rules merge by id, this file's rules win.",
    )
    issue_pattern: str | None = Field(
        default=None,
        max_length=500,
        description="Regex that finds change.linked_issues in the PR/MR title, description, "
        "branch and commit messages (default: Jira keys, #123, owner/repo#123); GitHub's "
        "linked issues (closingIssuesReferences) count too.",
    )
    rules: tuple[Rule, ...] = ()
    waivers: tuple[Waiver, ...] = ()

    @field_validator("issue_pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as error:
                raise ValueError(f"not a regular expression: {error}") from error
        return value
