"""DSSE v1 envelopes: pre-authentication encoding, signing and verification with Ed25519."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from gatekeeper.attest.keys import SigningKey, VerifyingKey
from gatekeeper.errors import VerificationError

__all__ = [
    "PAYLOAD_TYPE",
    "Envelope",
    "Signature",
    "b64decode_strict",
    "pae",
    "sign_envelope",
    "verify_envelope",
]

PAYLOAD_TYPE = "application/vnd.in-toto+json"


class Signature(BaseModel):
    """One DSSE signature: the signer's key id and the base64 signature."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    keyid: str
    sig: str


class Envelope(BaseModel):
    """A DSSE envelope as it travels: the payload and signatures are standard base64."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    payloadType: str  # noqa: N815 - the DSSE wire name
    payload: str
    signatures: tuple[Signature, ...]

    def to_json_dict(self) -> dict[str, Any]:
        """The envelope object as plain JSON values (what RFC 8785 canonicalises for the leaf)."""
        return {
            "payloadType": self.payloadType,
            "payload": self.payload,
            "signatures": [{"keyid": s.keyid, "sig": s.sig} for s in self.signatures],
        }

    def payload_bytes(self) -> bytes:
        """The decoded payload; raises VerificationError when it is not valid base64."""
        return b64decode_strict(self.payload, "the envelope payload")


def b64decode_strict(text: str, what: str) -> bytes:
    """Decode standard base64 with padding, refusing any other character."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as error:
        raise VerificationError(f"{what} is not valid base64") from error


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: `DSSEv1 SP len(type) SP type SP len(body) SP body`."""
    encoded_type = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(encoded_type), encoded_type, len(payload), payload)


def sign_envelope(payload: bytes, key: SigningKey, *, payload_type: str = PAYLOAD_TYPE) -> Envelope:
    """Sign `payload` (exact bytes, not re-serialised) into an envelope with one signature."""
    if not payload_type.isascii():
        raise ValueError("the DSSE payloadType must be ASCII")
    signature = key.sign(pae(payload_type, payload))
    return Envelope(
        payloadType=payload_type,
        payload=base64.b64encode(payload).decode("ascii"),
        signatures=(Signature(keyid=key.key_id, sig=base64.b64encode(signature).decode("ascii")),),
    )


def verify_envelope(
    envelope: Envelope,
    keys: Mapping[str, VerifyingKey],
    *,
    payload_type: str = PAYLOAD_TYPE,
) -> bytes:
    """Check the envelope and return its payload bytes.

    Every signature by a key in `keys` must verify, and there must be at least one; signatures
    by other keys are ignored. Raises VerificationError naming what failed.
    """
    if envelope.payloadType != payload_type:
        raise VerificationError(
            f"the envelope payloadType is {envelope.payloadType!r}, expected {payload_type!r}"
        )
    payload = envelope.payload_bytes()
    if not envelope.signatures:
        raise VerificationError("the envelope has no signatures")
    message = pae(envelope.payloadType, payload)
    verified = 0
    for number, signature in enumerate(envelope.signatures, start=1):
        key = keys.get(signature.keyid)
        if key is None:
            continue
        raw = b64decode_strict(signature.sig, f"signature {number}")
        if not key.verify(raw, message):
            raise VerificationError(
                f"signature {number} by key {signature.keyid[:16]}... does not match the payload"
            )
        verified += 1
    if verified == 0:
        known = ", ".join(s.keyid[:16] + "..." for s in envelope.signatures)
        raise VerificationError(f"no signature is by a known key (signed by {known})")
    return payload
