"""`/v1/keys`: the public keys, current and retired, and the key transitions that link them, for
anyone to verify with."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from gatekeeper.attest.keys import VerifyingKey
from gatekeeper.ledger import merkle_tree, verifier_key
from gatekeeper.service.deps import Context, Db
from gatekeeper.service.keyring import published_keys
from gatekeeper.service.problems import ApiError
from gatekeeper.service.records import (
    ErrorOut,
    InclusionProofOut,
    KeyOut,
    KeysOut,
    TransitionOut,
    TransitionsOut,
    record_from_row,
)
from gatekeeper.service.store import KEYS_PROJECT, hex_hashes
from gatekeeper.service.tables import RecordRow
from gatekeeper.service.tree_nodes import NodeReader

router = APIRouter(prefix="/v1/keys", tags=["keys"])

_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorOut} for code in (404, 503)}


@router.get("", response_model=KeysOut, summary="Public keys")
def keys(connection: Db, context: Context) -> KeysOut:
    """Every key the log signs or signed with; `key_id` is the SHA-256 of the raw public key;
    `verifier_key` is the same key as a C2SP verifier key line named by the log's origin."""
    return KeysOut(
        keys=[
            KeyOut(
                key_id=key.key_id,
                algorithm="ed25519",
                public_key_pem=key.public_key_pem,
                verifier_key=verifier_key(
                    context.store.origin, VerifyingKey.from_public_pem(key.public_key_pem)
                ),
                created_at=key.created_at,
                retired_at=key.retired_at,
            )
            for key in published_keys(connection)
        ]
    )


@router.get(
    "/transitions",
    response_model=TransitionsOut,
    responses=_ERRORS,
    summary="Key transitions with inclusion proofs",
)
def transitions(
    connection: Db,
    context: Context,
    size: Annotated[int | None, Query(ge=1, le=2**53 - 1)] = None,
) -> TransitionsOut:
    """Every key-transition record before tree `size` (default: the newest checkpoint's), in
    log order, each with its RFC 9162 inclusion proof to that tree; a witness or auditor
    follows them from the key it pinned, as `verify` does with a bundle's transitions.jsonl."""
    checkpoint = (
        context.store.latest_checkpoint(connection)
        if size is None
        else context.store.checkpoint_at(connection, size)
    )
    if checkpoint is None:
        raise ApiError(404, "the log has no signed checkpoint of that size")
    rows = connection.execute(
        select(RecordRow.__table__)
        .where(RecordRow.project == KEYS_PROJECT, RecordRow.log_index < checkpoint.size)
        .order_by(RecordRow.log_index)
    ).all()
    reader = NodeReader(connection)
    found: list[TransitionOut] = []
    for row in rows:
        record = record_from_row(row._mapping)
        reader.prefetch(merkle_tree.required_nodes_for_inclusion(record.log_index, checkpoint.size))
        proof = merkle_tree.inclusion_proof(record.log_index, checkpoint.size, reader.get)
        found.append(
            TransitionOut(
                record=record.to_out(),
                proof=InclusionProofOut(
                    index=record.log_index, size=checkpoint.size, hashes=hex_hashes(proof)
                ),
            )
        )
    return TransitionsOut(size=checkpoint.size, transitions=found)
