"""SLSA Verification Summary Attestations (VSA v1) of stored gate verdicts.

A VSA says, in the shape standard tooling reads (https://slsa.dev/spec/v1.0/verification_summary),
that a verifier checked a resource against a policy and what came out. The evidence service is
the verifier; the resource is the commit of the record's subject; the policy is the one the
verdict names (its digest); the input attestation is the stored record's envelope. The VSA is an
in-toto Statement v1 signed in a DSSE envelope with the service key, like the record itself.

`verifiedLevels` holds `GATEKEEPER_GATE_PASSED` for a passing gate and `FAILED` for a failing
one: the gate checks tests, coverage and reviews, not a SLSA build track, so claiming a
`SLSA_BUILD_LEVEL_*` would say more than was verified (custom values must not start `SLSA_`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from gatekeeper.attest.canonical import canonical_json
from gatekeeper.attest.dsse import Envelope, sign_envelope
from gatekeeper.attest.keys import SigningKey
from gatekeeper.attest.predicate import (
    PredicateError,
    VerdictPart,
    read_verdict,
)
from gatekeeper.attest.statement import STATEMENT_TYPE, Statement
from gatekeeper.errors import AttestError

__all__ = [
    "GATE_PASSED_LEVEL",
    "VSA_PREDICATE_TYPE",
    "GateDecision",
    "VsaClaim",
    "VsaError",
    "VsaInput",
    "build_vsa",
    "decision_of",
    "read_vsa",
    "resource_uri",
    "sign_vsa",
]

VSA_PREDICATE_TYPE = "https://slsa.dev/verification_summary/v1"
GATE_PASSED_LEVEL = "GATEKEEPER_GATE_PASSED"
SLSA_VERSION = "1.0"


class VsaError(AttestError):
    """The record is not a gate verdict a VSA can summarise; `str()` says why."""


@dataclass(frozen=True)
class GateDecision:
    """What a verdict statement decided: the result and the policy that judged it."""

    result: Literal["PASSED", "FAILED"]
    policy_name: str | None
    policy_digest: str


@dataclass(frozen=True)
class VsaInput:
    """What a VSA is made of, besides the statement it summarises."""

    verifier_id: str
    time_verified: str
    policy_uri: str
    record_uri: str
    envelope_bytes: bytes
    """The stored record's envelope (canonical JSON): its SHA-256 is the input's digest."""


def decision_of(predicate: Any, predicate_type: str | None = None) -> GateDecision:
    """The decision of a Gatekeeper verdict predicate (`read_verdict`; `predicate_type` None:
    of either version); VsaError when it holds none."""
    return _decision(_verdict(predicate, predicate_type))


def _verdict(predicate: Any, predicate_type: str | None) -> VerdictPart:
    try:
        return read_verdict(predicate, predicate_type)
    except PredicateError as error:
        raise VsaError(f"the record holds no gate verdict ({error})") from error


def _decision(found: VerdictPart) -> GateDecision:
    if not found.policy.digest:
        raise VsaError("the record's verdict names no policy digest")
    name = found.policy.name or None
    return GateDecision(
        "PASSED" if found.verdict == "pass" else "FAILED", name, found.policy.digest
    )


def resource_uri(statement: Statement, predicate: VerdictPart | None = None) -> str:
    """The commit the statement is about, as a URI: the subject's own URI when it is one, else
    `git+https://host/owner/name@sha` when the facts name the host (a PR/MR or commit URL),
    else `git+<name>@sha`."""
    subject = statement.subject[0]
    commit = subject.digest.get("gitCommit") or next(iter(subject.digest.values()))
    names = subject.identifiers or ("_",)
    uri = next((name for name in names if "://" in name), None)
    if uri is not None:
        return f"{uri}@{commit}"
    url = None if predicate is None else predicate.subject_text("url")
    if url is not None and url.startswith("https://"):
        host = url.removeprefix("https://").split("/", 1)[0]
        if host and all(c.isalnum() or c in ".-:" for c in host):
            return f"git+https://{host}/{names[0]}@{commit}"
    return f"git+{names[0]}@{commit}"


def build_vsa(statement: Statement, given: VsaInput) -> dict[str, Any]:
    """The VSA statement (plain JSON) of a stored verdict statement."""
    predicate = _verdict(statement.predicate, statement.predicateType)
    decision = _decision(predicate)
    levels = [GATE_PASSED_LEVEL] if decision.result == "PASSED" else ["FAILED"]
    return {
        "_type": STATEMENT_TYPE,
        "subject": [subject.to_json_dict() for subject in statement.subject],
        "predicateType": VSA_PREDICATE_TYPE,
        "predicate": {
            "verifier": {"id": given.verifier_id},
            "timeVerified": given.time_verified,
            "resourceUri": resource_uri(statement, predicate),
            "policy": {"uri": given.policy_uri, "digest": {"sha256": decision.policy_digest}},
            "inputAttestations": [
                {
                    "uri": given.record_uri,
                    "digest": {"sha256": hashlib.sha256(given.envelope_bytes).hexdigest()},
                }
            ],
            "verificationResult": decision.result,
            "verifiedLevels": levels,
            "slsaVersion": SLSA_VERSION,
        },
    }


@dataclass(frozen=True)
class VsaClaim:
    """What a VSA claims about a record: the SHA-256 of each input attestation it names (None
    for an entry without one) and its verification result, as written (never trusted)."""

    input_digests: tuple[Any, ...]
    result: Any


def read_vsa(predicate: Mapping[str, Any]) -> VsaClaim:
    """The claim of a VSA predicate (the reader beside `build_vsa`, the one builder)."""
    inputs = predicate.get("inputAttestations")
    digests = tuple(
        entry.get("digest", {}).get("sha256")
        for entry in inputs or ()
        if isinstance(entry, dict) and isinstance(entry.get("digest"), dict)
    )
    return VsaClaim(input_digests=digests, result=predicate.get("verificationResult"))


def sign_vsa(statement: Statement, given: VsaInput, key: SigningKey) -> Envelope:
    """The VSA of `statement`, signed by `key` in a DSSE envelope (canonical payload)."""
    return sign_envelope(canonical_json(build_vsa(statement, given)), key)
