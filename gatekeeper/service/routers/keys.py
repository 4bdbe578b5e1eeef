"""`/v1/keys`: the public keys, current and retired, for anyone to verify with."""

from __future__ import annotations

from fastapi import APIRouter

from gatekeeper.attest.keys import VerifyingKey
from gatekeeper.ledger import verifier_key
from gatekeeper.service.deps import Context, Db
from gatekeeper.service.keyring import published_keys
from gatekeeper.service.records import KeyOut, KeysOut

router = APIRouter(prefix="/v1/keys", tags=["keys"])


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
