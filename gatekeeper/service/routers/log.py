"""`/v1/log`: the newest signed checkpoint with its witness cosignatures, RFC 9162 inclusion and
consistency proofs, and `POST /v1/log/witness` for the witnesses' cosignatures.

Everything here is public (no token): a checkpoint and a proof are tree sizes and hashes, and
every hash in a proof is of a subtree or of a leaf, SHA-256 over a signed envelope, which tells
nothing of a record without the record. The records themselves stay behind a read token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import select

from gatekeeper.attest.keys import VerifyingKey
from gatekeeper.ledger.checkpoint import Checkpoint, signed_note_text
from gatekeeper.service.deps import Context, Db
from gatekeeper.service.limits import client_address
from gatekeeper.service.problems import ApiError
from gatekeeper.service.records import (
    CheckpointOut,
    ConsistencyProofOut,
    CosignatureOut,
    ErrorOut,
    InclusionProofOut,
    WitnessedCheckpointOut,
    WitnessIn,
)
from gatekeeper.service.store import hex_hashes
from gatekeeper.service.tables import SigningKeyRow
from gatekeeper.service.witnesses import accept_cosignature, cosignatures_at

router = APIRouter(prefix="/v1/log", tags=["log"])

_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorOut} for code in (400, 503)}
_SIZE = Query(ge=0, le=2**53 - 1)


def _latest(context: Context, connection: Db) -> CheckpointOut:
    checkpoint = context.store.latest_checkpoint(connection)
    if checkpoint is None:
        raise ApiError(404, "the log is empty: no checkpoint has been signed yet")
    return checkpoint


def _cosignatures(connection: Db, size: int) -> list[CosignatureOut]:
    return [CosignatureOut(**vars(c)) for c in cosignatures_at(connection, size)]


@router.get(
    "/checkpoint",
    response_model=WitnessedCheckpointOut,
    responses=_ERRORS | {404: {"model": ErrorOut}},
    summary="Newest signed checkpoint",
)
def checkpoint(context: Context, connection: Db) -> WitnessedCheckpointOut:
    """The newest checkpoint: tree size and root hash, signed by the log's key, and the
    witnesses' cosignatures of it (`cosignatures`, C2SP cosignature/v1 lines). Public: no
    token needed."""
    latest = _latest(context, connection)
    return WitnessedCheckpointOut(
        **latest.model_dump(), cosignatures=_cosignatures(connection, latest.size)
    )


@router.get(
    "/checkpoint/note",
    response_class=PlainTextResponse,
    responses=_ERRORS | {404: {"model": ErrorOut}},
    summary="Newest checkpoint as a signed note",
)
def checkpoint_note(context: Context, connection: Db) -> str:
    """The newest checkpoint text followed by its signature line (C2SP signed-note form) and
    the witnesses' cosignature lines. Public: no token needed."""
    latest = _latest(context, connection)
    pem = connection.execute(
        select(SigningKeyRow.public_key_pem).where(SigningKeyRow.key_id == latest.key_id)
    ).scalar_one()
    checkpoint = Checkpoint(**latest.model_dump())
    key = VerifyingKey.from_public_pem(pem)
    note = signed_note_text(checkpoint, checkpoint.origin(), key)
    return note + "".join(c.cosignature for c in _cosignatures(connection, latest.size))


@router.post(
    "/witness",
    response_model=CosignatureOut,
    status_code=201,
    responses={
        200: {"model": CosignatureOut, "description": "This cosignature was already kept."},
        **{code: {"model": ErrorOut} for code in (403, 413, 422, 429, 503)},
    },
    summary="Add a witness cosignature",
)
def witness(request: Request, context: Context, body: WitnessIn) -> Any:
    """Keep a witness's C2SP cosignature/v1 of a checkpoint this log issued. Only keys listed
    in GATEKEEPER_WITNESS_KEYS are accepted (403 otherwise); the checkpoint body must be exactly
    one the log signed and the signature must verify over it (422 otherwise). Each refused
    cosignature counts against the client address like a refused token: past
    GATEKEEPER_AUTH_FAILURES_PER_ADDRESS a minute the address gets 429 with Retry-After."""
    address = client_address(request, context.settings.trusted_proxies)
    context.limits.refuse_blocked(address)
    try:
        stored, created = accept_cosignature(
            context.engine, context.witness_keys, body.checkpoint, body.cosignature
        )
    except ApiError as refused:
        if refused.status in (403, 422):
            context.limits.failed(address)
        raise
    if created:
        context.metrics.witness_cosignatures.inc()
    out = CosignatureOut(**vars(stored))
    return out if created else JSONResponse(out.model_dump(), status_code=200)


@router.get(
    "/proof/inclusion",
    response_model=InclusionProofOut,
    responses=_ERRORS,
    summary="Inclusion proof (audit path)",
)
def inclusion(
    context: Context,
    connection: Db,
    index: Annotated[int, _SIZE],
    size: Annotated[int, _SIZE],
) -> InclusionProofOut:
    """The RFC 9162 audit path of leaf `index` in the tree of `size` leaves: hashes only (no
    record, no project). Public: no token needed."""
    current = _latest(context, connection).size
    if not index < size <= current:
        raise ApiError(
            400, f"need index < size <= {current} (the log size); got index={index}, size={size}"
        )
    hashes = context.store.inclusion_proof(index, size, connection)
    return InclusionProofOut(index=index, size=size, hashes=hex_hashes(hashes))


@router.get(
    "/proof/consistency",
    response_model=ConsistencyProofOut,
    responses=_ERRORS,
    summary="Consistency proof",
)
def consistency(
    context: Context,
    connection: Db,
    old: Annotated[int, _SIZE],
    new: Annotated[int, _SIZE],
) -> ConsistencyProofOut:
    """The RFC 9162 proof that the log of size `old` is a prefix of the log of size `new`:
    hashes only. Public: no token needed."""
    current = _latest(context, connection).size
    if not 0 < old <= new <= current:
        raise ApiError(
            400, f"need 0 < old <= new <= {current} (the log size); got old={old}, new={new}"
        )
    hashes = context.store.consistency_proof(old, new)
    return ConsistencyProofOut(old=old, new=new, hashes=hex_hashes(hashes))
