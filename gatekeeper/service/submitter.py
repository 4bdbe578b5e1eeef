"""The submitter of a record: who sent it, as the service verified, written before signing.

`predicate.submitter` is the predicate model's `Submitter`: `kind: oidc` with the issuer and the
CI's verified ID-token claims (subject, the project claim, ref, sha, workflow_ref or pipeline_id,
run_id, actor, runner_environment, event), or `kind: token` with the API token's id and name.
Only the service fills it: whatever a sender wrote there is replaced.
"""

from __future__ import annotations

from gatekeeper.attest.canonical import canonical_json, strict_json_loads
from gatekeeper.attest.predicate import Submitter, with_service_parts


def with_submitter(payload: bytes, submitter: Submitter) -> bytes:
    """The statement bytes to sign, with `predicate.submitter` set to `submitter`."""
    statement = strict_json_loads(payload)
    if not isinstance(statement, dict):
        return payload
    return canonical_json(with_service_parts(statement, submitter=submitter))
