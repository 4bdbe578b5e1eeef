"""`/v1/evidence/{id}/vsa`: a record as an SLSA Verification Summary Attestation v1."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from gatekeeper.attest.vsa import VsaError
from gatekeeper.service.deps import Context, Db, Reader, load_record
from gatekeeper.service.problems import ApiError
from gatekeeper.service.records import EnvelopeOut, ErrorOut
from gatekeeper.service.summaries import record_vsa, service_base

router = APIRouter(prefix="/v1/evidence", tags=["evidence"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (401, 403, 404, 422, 503)
}


@router.get(
    "/{record_id}/vsa",
    response_model=EnvelopeOut,
    responses=_ERRORS,
    summary="One record as an SLSA VSA v1",
)
def get_vsa(
    request: Request, context: Context, connection: Db, principal: Reader, record_id: str
) -> EnvelopeOut:
    """The record's gate decision as an in-toto Statement of predicate type
    `https://slsa.dev/verification_summary/v1` (verifier, timeVerified, resourceUri, policy
    uri and digest, inputAttestations = the record, verificationResult PASSED or FAILED,
    verifiedLevels), in a DSSE envelope signed with the service's current key; 422 when the
    record holds no gate verdict."""
    record = load_record(connection, principal, record_id)
    base = service_base(context.settings.public_url, str(request.base_url))
    try:
        envelope = record_vsa(record, base, context.store.signing_key())
    except VsaError as error:
        raise ApiError(422, f"record {record.id} has no VSA: {error}") from None
    return EnvelopeOut.model_validate(envelope.to_json_dict())
