"""VSA v1 summaries of stored records, signed with the service's current key (API and bundle).

The URIs in a VSA name this service: `GATEKEEPER_PUBLIC_URL` when set (the address auditors
use, behind a proxy), else the address the request came to.
"""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

from gatekeeper.attest.dsse import Envelope
from gatekeeper.attest.keys import SigningKey
from gatekeeper.attest.statement import StatementError, parse_statement
from gatekeeper.attest.vsa import VsaError, VsaInput, decision_of, sign_vsa
from gatekeeper.errors import VerificationError
from gatekeeper.service.records import StoredRecord

__all__ = ["record_vsa", "service_base"]


def service_base(public_url: str | None, request_base: str) -> str:
    """The base URL the VSA's URIs start with (no trailing slash)."""
    return (public_url or request_base).rstrip("/")


def record_vsa(record: StoredRecord, base: str, key: SigningKey) -> Envelope:
    """The signed VSA of a stored verdict record; VsaError when it holds no gate verdict."""
    try:
        envelope = Envelope.model_validate(json.loads(record.envelope))
        statement = parse_statement(envelope.payload_bytes())
    except (StatementError, VerificationError, ValueError) as error:
        raise VsaError(f"the record's statement cannot be read ({error})") from error
    decision = decision_of(statement.predicate, statement.predicateType)
    query = urlencode({"project": record.project, "digest": decision.policy_digest})
    given = VsaInput(
        verifier_id=base + "/",
        time_verified=record.integrated_at,
        policy_uri=f"{base}/v1/policies?{query}",
        record_uri=f"{base}/v1/evidence/{quote(record.id, safe='')}",
        envelope_bytes=record.envelope,
    )
    return sign_vsa(statement, given, key)
