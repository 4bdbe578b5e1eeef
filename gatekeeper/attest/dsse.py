"""DSSE v1 envelopes: pre-authentication encoding, signing and verification with Ed25519."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from gatekeeper.attest.keys import SigningKey, VerifyingKey
from gatekeeper.errors import AttestError, VerificationError

__all__ = [
    "PAYLOAD_TYPE",
    "Envelope",
    "Signature",
    "b64decode_either",
    "b64decode_strict",
    "envelope_json_parts",
    "pae",
    "sign_envelope",
    "verify_envelope",
    "verify_envelope_json",
    "verify_foreign_envelope",
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


_ENVELOPE_FIELDS = frozenset({"payloadType", "payload", "signatures"})
_SIGNATURE_FIELDS = frozenset({"keyid", "sig"})


def b64decode_strict(text: str, what: str) -> bytes:
    """Decode standard base64 with padding, refusing any other character."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as error:
        raise VerificationError(f"{what} is not valid base64") from error


_URL_SAFE_TO_STANDARD = str.maketrans("-_", "+/")


def b64decode_either(text: str, what: str) -> bytes:
    """Decode standard or URL-safe base64 (RFC 4648, padded), both of which DSSE allows; one
    string uses one alphabet."""
    if "-" in text or "_" in text:
        if "+" in text or "/" in text:
            raise VerificationError(f"{what} mixes the standard and the URL-safe base64 alphabets")
        text = text.translate(_URL_SAFE_TO_STANDARD)
    return b64decode_strict(text, what)


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: `DSSEv1 SP len(type) SP type SP len(body) SP body`."""
    encoded_type = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(encoded_type), encoded_type, len(payload), payload)


def sign_envelope(payload: bytes, key: SigningKey, *, payload_type: str = PAYLOAD_TYPE) -> Envelope:
    """Sign `payload` (exact bytes, not re-serialised) into an envelope with one signature."""
    if not payload_type.isascii():
        raise AttestError("the DSSE payloadType must be ASCII")
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
    signatures = [(s.keyid, s.sig) for s in envelope.signatures]
    return _verify(envelope.payloadType, envelope.payload, signatures, keys, payload_type)


def envelope_json_parts(value: Any) -> tuple[str, str, list[tuple[str, str]]]:
    """(payloadType, base64 payload, [(keyid, sig)]) of a parsed JSON envelope object.

    The same rules as the Envelope model (exactly these fields, all strings), checked by hand
    because a verifier meets 100,000 of them; raises VerificationError naming what is wrong.
    """
    if not isinstance(value, dict) or value.keys() != _ENVELOPE_FIELDS:
        raise VerificationError("the envelope is not {payloadType, payload, signatures}")
    kind, payload, signatures = value["payloadType"], value["payload"], value["signatures"]
    if not isinstance(kind, str) or not isinstance(payload, str):
        raise VerificationError("the envelope payloadType and payload must be strings")
    if not isinstance(signatures, list) or not all(
        isinstance(s, dict)
        and s.keys() == _SIGNATURE_FIELDS
        and isinstance(s["keyid"], str)
        and isinstance(s["sig"], str)
        for s in signatures
    ):
        raise VerificationError("the envelope signatures are not a list of {keyid, sig} strings")
    return kind, payload, [(s["keyid"], s["sig"]) for s in signatures]


def verify_envelope_json(
    value: Any,
    keys: Mapping[str, VerifyingKey],
    *,
    payload_type: str = PAYLOAD_TYPE,
) -> bytes:
    """`verify_envelope` on a parsed JSON envelope object, without building the model."""
    kind, payload, signatures = envelope_json_parts(value)
    return _verify(kind, payload, signatures, keys, payload_type)


def verify_foreign_envelope(
    value: Any,
    keys: Mapping[str, VerifyingKey],
    *,
    payload_type: str = PAYLOAD_TYPE,
) -> bytes:
    """`verify_envelope_json` for an envelope made elsewhere, read by the DSSE parsing rules:
    `keyid` may be unset, null or empty (the keyid is an unauthenticated hint, so every trusted
    key is then tried), base64 may be standard or URL-safe, unrecognised fields are ignored."""
    if not isinstance(value, dict):
        raise VerificationError("the envelope is not a JSON object")
    kind, payload, signatures = (
        value.get("payloadType"),
        value.get("payload"),
        value.get("signatures"),
    )
    if not isinstance(kind, str) or not isinstance(payload, str):
        raise VerificationError("the envelope payloadType and payload must be strings")
    if not isinstance(signatures, list) or not all(
        isinstance(s, dict)
        and isinstance(s.get("sig"), str)
        and isinstance(s.get("keyid", ""), str | None)
        for s in signatures
    ):
        raise VerificationError("the envelope signatures are not a list of {sig, keyid?} strings")
    pairs = [(s.get("keyid") or "", s["sig"]) for s in signatures]
    return _verify(kind, payload, pairs, keys, payload_type, decode=b64decode_either)


def _verify(
    kind: str,
    payload_b64: str,
    signatures: list[tuple[str, str]],
    keys: Mapping[str, VerifyingKey],
    expected: str,
    *,
    decode: Callable[[str, str], bytes] = b64decode_strict,
) -> bytes:
    if kind != expected:
        raise VerificationError(f"the envelope payloadType is {kind!r}, expected {expected!r}")
    payload = decode(payload_b64, "the envelope payload")
    if not signatures:
        raise VerificationError("the envelope has no signatures")
    message = pae(kind, payload)
    verified = 0
    for number, (keyid, sig) in enumerate(signatures, start=1):
        if not keyid:  # no hint: a signature by any trusted key counts
            raw = decode(sig, f"signature {number}")
            verified += any(key.verify(raw, message) for key in keys.values())
            continue
        key = keys.get(keyid)
        if key is None:
            continue
        if not key.verify(decode(sig, f"signature {number}"), message):
            raise VerificationError(
                f"signature {number} by key {keyid[:16]}... does not match the payload"
            )
        verified += 1
    if verified == 0:
        known = ", ".join(keyid[:16] + "..." if keyid else "(no keyid)" for keyid, _ in signatures)
        raise VerificationError(f"no signature is by a known key (signed by {known})")
    return payload
