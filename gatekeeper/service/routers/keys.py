"""`/v1/keys`: the public keys, current and retired, for anyone to verify with."""

from __future__ import annotations

from fastapi import APIRouter

from gatekeeper.service.deps import Db
from gatekeeper.service.keyring import published_keys
from gatekeeper.service.records import KeyOut, KeysOut

router = APIRouter(prefix="/v1/keys", tags=["keys"])


@router.get("", response_model=KeysOut, summary="Public keys")
def keys(connection: Db) -> KeysOut:
    """Every key the log signs or signed with; `key_id` is the SHA-256 of the raw public key."""
    return KeysOut(
        keys=[
            KeyOut(
                key_id=key.key_id,
                algorithm="ed25519",
                public_key_pem=key.public_key_pem,
                created_at=key.created_at,
                retired_at=key.retired_at,
            )
            for key in published_keys(connection)
        ]
    )
