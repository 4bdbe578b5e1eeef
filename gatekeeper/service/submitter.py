"""The submitter of a record: who sent it, as the service verified, written before signing.

`predicate.submitter` is the CI's verified ID-token claims (`kind: oidc`: issuer, subject, the
project claim, ref, sha, workflow_ref or pipeline_id, run_id, actor, runner_environment) or the
API token's id and name (`kind: token`). Only the service fills it: whatever a sender wrote
there is replaced.
"""

from __future__ import annotations

from collections.abc import Mapping

from gatekeeper.attest.canonical import canonical_json, strict_json_loads


def with_submitter(payload: bytes, submitter: Mapping[str, str]) -> bytes:
    """The statement bytes to sign, with `predicate.submitter` set to `submitter`."""
    statement = strict_json_loads(payload)
    if not isinstance(statement, dict):
        return payload
    predicate = statement.get("predicate")
    predicate = dict(predicate) if isinstance(predicate, dict) else {}
    predicate["submitter"] = dict(submitter)
    return canonical_json({**statement, "predicate": predicate})
