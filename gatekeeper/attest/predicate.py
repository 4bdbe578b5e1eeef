"""The verdict predicate: the one typed model that builds and reads what a record's statement says.

Version 2 (`PREDICATE_TYPE`) is what Gatekeeper writes; its JSON Schema is generated from
`VerdictPredicate` and shipped as `gatekeeper/data/schemas/verdict-predicate-v2.schema.json`.
Version 1 (`PREDICATE_TYPE_V1`, an untyped dict under a domain the project never owned) is still
read, because records are kept for years: `read_predicate` maps it onto the same model.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Mapping
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from gatekeeper.attest.canonical import canonical_json
from gatekeeper.errors import AttestError

__all__ = [
    "PREDICATE_TYPE",
    "PREDICATE_TYPES",
    "PREDICATE_TYPE_V1",
    "SCHEMA_RESOURCE",
    "Confirmation",
    "PolicyInfo",
    "PredicateError",
    "RuleRecord",
    "Submitter",
    "VerdictPart",
    "VerdictPredicate",
    "WaiverRecord",
    "build_predicate",
    "carried_policy",
    "policy_digest",
    "predicate_json_schema",
    "read_predicate",
    "read_verdict",
    "shipped_json_schema",
    "with_service_parts",
]

PREDICATE_TYPE = "https://github.com/gatekeeper-evidence/gatekeeper/predicates/verdict/v2"
PREDICATE_TYPE_V1 = "https://gatekeeper.dev/verdict/v1"
PREDICATE_TYPES = (PREDICATE_TYPE, PREDICATE_TYPE_V1)
SCHEMA_RESOURCE = "schemas/verdict-predicate-v2.schema.json"

Outcome = Literal["pass", "fail", "warn", "waived", "skipped", "error"]
WaiverStatus = Literal["applied", "expired", "out_of_scope", "unused"]


class PredicateError(AttestError):
    """The predicate is not a Gatekeeper verdict predicate; `str()` is one sentence saying why."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)


class PolicyInfo(_Frozen):
    """Which policy judged: name, SHA-256 digest, an optional version and its canonical document.

    With a document, `digest` is the SHA-256 of the document's RFC 8785 canonical JSON (anyone
    can recompute it) and `file_digest` the SHA-256 of the policy file's bytes."""

    name: str
    digest: str
    version: str | None = None
    file_digest: str | None = Field(
        default=None, description="SHA-256 of the policy file's bytes, beside the document's."
    )
    document: JsonValue = Field(
        default=None, description="The policy as canonical JSON, when the submitter carried it."
    )

    @property
    def digest_follows(self) -> bool:
        """Whether `digest` is the digest of the carried document (False without one)."""
        return self.document is not None and policy_digest(self.document) == self.digest


class RuleRecord(_Frozen):
    """One rule's outcome as evaluated: what it read, the bound and one sentence."""

    id: str
    title: str
    outcome: Outcome
    actual: JsonValue = None
    expected: str | None = None
    message: str
    clause: str | None = None
    severity: Literal["block", "warn"] = "block"
    metric: str | None = None


class WaiverRecord(_Frozen):
    """A waiver of the policy and what became of it in this evaluation (ISO 9001 8.7)."""

    rule: str
    reason: str | None = None
    approved_by: str
    expires: dt.date
    ticket: str | None = None
    status: WaiverStatus
    message: str | None = None


class Submitter(_Frozen):
    """Who submitted the statement, as the service established it (never the submitter's say-so)."""

    kind: Literal["oidc", "token"]
    issuer: str | None = None
    claims: dict[str, str] | None = Field(
        default=None, description="The verified claims of an OIDC ID token (kind oidc)."
    )
    token_id: str | None = Field(default=None, description="The API token's id (kind token).")
    token_name: str | None = Field(default=None, description="The API token's name (kind token).")


class Confirmation(_Frozen):
    """What the service itself checked of one section of the facts (e.g. `reviews`)."""

    status: Literal["confirmed", "not checked", "not confirmed"]
    by: str | None = None
    at: str | None = None
    reason: str | None = None


class VerdictPredicate(_Frozen):
    """The predicate of a Gatekeeper verdict statement (version 2)."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        title="Gatekeeper verdict predicate v2",
        json_schema_extra={"$id": PREDICATE_TYPE},
    )

    verdict: Literal["pass", "fail"]
    policy: PolicyInfo
    rules: tuple[RuleRecord, ...] = ()
    waivers: tuple[WaiverRecord, ...] = ()
    evaluated_at: dt.datetime | None = Field(
        default=None, description="When the policy was evaluated; absent only in v1 records."
    )
    facts: dict[str, JsonValue] = Field(default_factory=dict)
    run: dict[str, JsonValue] = Field(default_factory=dict, description="The CI run.")
    tools: dict[str, JsonValue] = Field(default_factory=dict)
    submitter: Submitter | None = None
    confirmed: dict[str, Confirmation] | None = None

    @property
    def waived(self) -> bool:
        """Whether the verdict passed through a waiver (one applied, or a rule waived)."""
        return any(w.status == "applied" for w in self.waivers) or any(
            r.outcome == "waived" for r in self.rules
        )

    def waived_rules(self) -> tuple[str, ...]:
        """The ids of the rules a waiver applied to, sorted, each once."""
        ids = {w.rule for w in self.waivers if w.status == "applied"}
        ids.update(r.id for r in self.rules if r.outcome == "waived")
        return tuple(sorted(ids))

    @property
    def recomputable(self) -> bool:
        """Whether the predicate carries what re-evaluating it needs (document, time)."""
        return self.policy.document is not None and self.evaluated_at is not None

    def rule_outcomes(self) -> tuple[tuple[str, str], ...]:
        """Each rule's id and outcome, in the order of the statement."""
        return tuple((rule.id, rule.outcome) for rule in self.rules)

    def subject_text(self, name: str) -> str | None:
        """The text of `facts.subject.<name>`, or None when absent or not text."""
        return _subject_text(self.facts, name)

    def to_json_dict(self) -> dict[str, Any]:
        """The predicate as plain JSON values, absent optional parts left out."""
        return self.model_dump(mode="json", exclude_none=True)


def _subject_text(facts: Mapping[str, JsonValue], name: str) -> str | None:
    subject = facts.get("subject")
    value = subject.get(name) if isinstance(subject, dict) else None
    return value if isinstance(value, str) and value else None


def _sentence(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "the predicate"
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"not a Gatekeeper verdict predicate: {where}: {message}"


def _validate(value: Mapping[str, Any], *, v2: bool = True) -> VerdictPredicate:
    try:
        predicate = VerdictPredicate.model_validate(dict(value))
    except ValidationError as error:
        raise PredicateError(_sentence(error)) from error
    if v2 and predicate.evaluated_at is None:
        raise PredicateError("not a Gatekeeper verdict predicate: evaluated_at: Field required")
    return predicate


def build_predicate(
    verdict: Mapping[str, Any],
    facts: Mapping[str, Any],
    run: Mapping[str, Any],
    tools: Mapping[str, Any],
) -> VerdictPredicate:
    """The predicate of a gate result (`verdict` is `Verdict.to_json_dict()`)."""
    return _validate(
        {
            "verdict": verdict.get("verdict"),
            "policy": verdict.get("policy"),
            "rules": verdict.get("rules", []),
            "waivers": verdict.get("waivers", []),
            "evaluated_at": verdict.get("evaluated_at"),
            "facts": dict(facts),
            "run": dict(run),
            "tools": dict(tools),
        }
    )


@functools.lru_cache(maxsize=256)
def _digest_of(sorted_json: str) -> str:
    return hashlib.sha256(canonical_json(json.loads(sorted_json))).hexdigest()


def policy_digest(document: JsonValue) -> str:
    """The SHA-256 (hex) of the RFC 8785 canonical JSON of a policy document (kept per
    distinct document: CI jobs carry the same few policies again and again)."""
    return _digest_of(json.dumps(document, sort_keys=True, ensure_ascii=False))


def carried_policy(verdict: Mapping[str, Any], document: JsonValue) -> dict[str, Any]:
    """`verdict` (`Verdict.to_json_dict()`) with its policy carrying `document`: the digest
    becomes the document's, the file's byte digest is kept beside it."""
    policy = verdict.get("policy")
    policy = dict(policy) if isinstance(policy, Mapping) else {}
    carried = {
        **policy,
        "digest": policy_digest(document),
        "file_digest": policy.get("digest"),
        "document": document,
    }
    return {**verdict, "policy": carried}


def _v1_to_v2(value: Mapping[str, Any]) -> dict[str, Any]:
    verdict = value.get("verdict")
    nested = verdict if isinstance(verdict, Mapping) else {}
    out: dict[str, Any] = {
        "verdict": nested.get("verdict") if nested else verdict,
        "policy": nested.get("policy", value.get("policy")),
        "rules": nested.get("rules", value.get("rules", [])),
        "waivers": nested.get("waivers", value.get("waivers", [])),
        "evaluated_at": nested.get("evaluated_at"),
        "facts": value.get("facts", {}),
        "run": value.get("ci", {}),
        "tools": value.get("tools", {}),
    }
    for part in ("submitter", "confirmed"):
        if part in value:
            out[part] = value[part]
    return out


def _flat_submitter(value: Mapping[str, Any]) -> Mapping[str, Any]:
    """`value` with a submitter of the flat shape the service wrote before the model's
    (claims beside `kind` and `issuer`, the token's `name`) in the model's shape."""
    found = value.get("submitter")
    if not isinstance(found, Mapping) or "claims" in found or "token_name" in found:
        return value
    if found.get("kind") == "oidc":
        claims = {k: v for k, v in found.items() if k not in ("kind", "issuer")}
        shaped = {"kind": "oidc", "issuer": found.get("issuer"), "claims": claims}
    elif found.get("kind") == "token" and "name" in found:
        shaped = {"kind": "token", "token_id": found.get("token_id"), "token_name": found["name"]}
    else:
        return value
    return {**value, "submitter": shaped}


def read_predicate(predicate_type: str, value: Any) -> VerdictPredicate:
    """The typed predicate of a statement of either version; PredicateError says what is wrong."""
    if not isinstance(value, Mapping):
        raise PredicateError("not a Gatekeeper verdict predicate: the predicate is not an object")
    if predicate_type == PREDICATE_TYPE:
        return _validate(_flat_submitter(value))
    if predicate_type == PREDICATE_TYPE_V1:
        return _validate(_flat_submitter(_v1_to_v2(value)), v2=False)
    raise PredicateError(
        f"not a Gatekeeper verdict predicate: predicateType {predicate_type[:200]!r} "
        f"is not {PREDICATE_TYPE!r}"
    )


class VerdictPart(_Frozen):
    """The decision of a predicate: its verdict, the policy that judged and the facts, the rest
    not read."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    verdict: Literal["pass", "fail"]
    policy: PolicyInfo
    facts: dict[str, JsonValue] = Field(default_factory=dict)

    def subject_text(self, name: str) -> str | None:
        """The text of `facts.subject.<name>`, or None when absent or not text."""
        return _subject_text(self.facts, name)


def read_verdict(value: Any, predicate_type: str | None = None) -> VerdictPart:
    """The verdict and policy of a predicate of `predicate_type`, or of either version when None
    (a bundle line of a record of any age), without reading the rest (what a summary of a
    stored record needs); PredicateError says why it holds none."""
    if not isinstance(value, Mapping):
        raise PredicateError("not a Gatekeeper verdict predicate: the predicate is not an object")
    if predicate_type is not None and predicate_type not in PREDICATE_TYPES:
        raise PredicateError(
            f"not a Gatekeeper verdict predicate: predicateType {predicate_type[:200]!r} "
            f"is not {PREDICATE_TYPE!r}"
        )
    shaped = value if predicate_type == PREDICATE_TYPE else _v1_to_v2(value)
    try:
        return VerdictPart.model_validate(shaped)
    except ValidationError as error:
        raise PredicateError(_sentence(error)) from error


def with_service_parts(
    statement: Mapping[str, Any],
    *,
    submitter: Submitter | None = None,
    confirmed: Mapping[str, Confirmation] | None = None,
) -> dict[str, Any]:
    """`statement` with the parts of its predicate only the service writes set (whatever the
    sender put there is replaced): who submitted it, what the service confirmed."""
    predicate = statement.get("predicate")
    predicate = dict(predicate) if isinstance(predicate, Mapping) else {}
    if submitter is not None:
        predicate["submitter"] = submitter.model_dump(mode="json", exclude_none=True)
    if confirmed is not None:
        predicate["confirmed"] = {
            name: found.model_dump(mode="json", exclude_none=True)
            for name, found in confirmed.items()
        }
    return {**statement, "predicate": predicate}


def predicate_json_schema() -> dict[str, Any]:
    """The JSON Schema of the v2 predicate, generated from the model."""
    schema = VerdictPredicate.model_json_schema(mode="serialization")
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    required = [name for name in schema.get("required", []) if name != "evaluated_at"]
    schema["required"] = [*required, "evaluated_at"]
    return schema


def shipped_json_schema() -> dict[str, Any]:
    """The JSON Schema shipped with the package (tests keep it equal to the generated one)."""
    text = resources.files("gatekeeper").joinpath("data", SCHEMA_RESOURCE).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded
