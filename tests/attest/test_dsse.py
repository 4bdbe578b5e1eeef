"""DSSE v1 envelopes: the pre-authentication encoding, signing, verification, tampering."""

from __future__ import annotations

import base64
import re

import pytest

from gatekeeper.attest.dsse import (
    PAYLOAD_TYPE,
    Envelope,
    Signature,
    envelope_json_parts,
    pae,
    sign_envelope,
    verify_envelope,
    verify_envelope_json,
    verify_foreign_envelope,
)
from gatekeeper.attest.keys import SigningKey
from gatekeeper.errors import VerificationError

KEY = SigningKey.from_seed(b"\x01" * 32)
KEYS = {KEY.key_id: KEY.public}


def test_pae_matches_the_dsse_specification_vector() -> None:
    """PAE is `DSSEv1 SP len(type) SP type SP len(body) SP body` (the spec's own example)."""
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_pae_counts_bytes_not_characters() -> None:
    """Lengths are byte counts of the UTF-8 type and of the body, including empty bodies."""
    assert pae("t", b"") == b"DSSEv1 1 t 0 "
    assert pae("\u00e9", b"\x00\xff") == b"DSSEv1 2 \xc3\xa9 2 \x00\xff"


def test_a_signed_envelope_verifies_and_returns_the_exact_payload() -> None:
    """Verification returns the signed bytes, which are the base64 payload decoded."""
    payload = b'{"b":1,"a":2}'
    envelope = sign_envelope(payload, KEY)
    assert envelope.payloadType == PAYLOAD_TYPE
    assert base64.b64decode(envelope.payload) == payload
    assert envelope.signatures[0].keyid == KEY.key_id
    assert verify_envelope(envelope, KEYS) == payload
    assert Envelope.model_validate(envelope.to_json_dict()) == envelope


def test_signing_is_deterministic() -> None:
    """Ed25519 signs the same payload the same way, so an envelope is reproducible."""
    assert sign_envelope(b"x", KEY) == sign_envelope(b"x", KEY)


def test_the_signature_covers_the_payload_type() -> None:
    """Changing the payloadType invalidates the signature even when it is expected."""
    envelope = sign_envelope(b"x", KEY, payload_type="application/other")
    swapped = envelope.model_copy(update={"payloadType": PAYLOAD_TYPE})
    with pytest.raises(VerificationError, match="does not match"):
        verify_envelope(swapped, KEYS)
    with pytest.raises(VerificationError, match="payloadType"):
        verify_envelope(envelope, KEYS)
    assert verify_envelope(envelope, KEYS, payload_type="application/other") == b"x"


def test_tampered_payloads_and_signatures_fail() -> None:
    """A changed payload or signature byte is caught and named."""
    envelope = sign_envelope(b"payload", KEY)
    other = base64.b64encode(b"paylOad").decode()
    with pytest.raises(VerificationError, match=r"signature 1 .* does not match"):
        verify_envelope(envelope.model_copy(update={"payload": other}), KEYS)
    raw = bytearray(base64.b64decode(envelope.signatures[0].sig))
    raw[10] ^= 1
    bad = Signature(keyid=KEY.key_id, sig=base64.b64encode(bytes(raw)).decode())
    with pytest.raises(VerificationError, match="does not match"):
        verify_envelope(envelope.model_copy(update={"signatures": (bad,)}), KEYS)


def test_unknown_keys_and_missing_signatures_fail() -> None:
    """An envelope with no signature by a known key is refused; unknown extra ones are ignored."""
    envelope = sign_envelope(b"p", KEY)
    stranger = SigningKey.from_seed(b"\x02" * 32)
    with pytest.raises(VerificationError, match="no signature is by a known key"):
        verify_envelope(envelope, {stranger.key_id: stranger.public})
    with pytest.raises(VerificationError, match="no signatures"):
        verify_envelope(envelope.model_copy(update={"signatures": ()}), KEYS)
    extra = sign_envelope(b"p", stranger).signatures[0]
    both = envelope.model_copy(update={"signatures": (*envelope.signatures, extra)})
    assert verify_envelope(both, KEYS) == b"p"


def test_invalid_base64_is_named() -> None:
    """Payloads and signatures that are not strict base64 are refused with a sentence."""
    envelope = sign_envelope(b"p", KEY)
    with pytest.raises(VerificationError, match="payload is not valid base64"):
        verify_envelope(envelope.model_copy(update={"payload": "no spaces!"}), KEYS)
    bad = Signature(keyid=KEY.key_id, sig="é")
    with pytest.raises(VerificationError, match="signature 1 is not valid base64"):
        verify_envelope(envelope.model_copy(update={"signatures": (bad,)}), KEYS)


def test_payload_type_must_be_ascii() -> None:
    """Signing refuses a non-ASCII payloadType (the design keeps it ASCII)."""
    with pytest.raises(ValueError, match="ASCII"):
        sign_envelope(b"p", KEY, payload_type="t\u00e9")


def test_envelopes_refuse_unknown_fields() -> None:
    """The envelope model is closed: an extra field is a validation error."""
    value = sign_envelope(b"p", KEY).to_json_dict()
    value["extra"] = 1
    with pytest.raises(ValueError, match="extra"):
        Envelope.model_validate(value)


def test_json_envelopes_verify_like_the_model() -> None:
    """verify_envelope_json accepts what the model accepts and returns the same payload."""
    envelope = sign_envelope(b"payload", KEY)
    assert verify_envelope_json(envelope.to_json_dict(), KEYS) == b"payload"


@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        ({"extra": 1}, "is not {payloadType, payload, signatures}"),
        ({"payload": 5}, "must be strings"),
        ({"signatures": {}}, "not a list of {keyid, sig} strings"),
        ({"signatures": [{"keyid": "k"}]}, "not a list of {keyid, sig} strings"),
        ({"signatures": [{"keyid": "k", "sig": 1}]}, "not a list of {keyid, sig} strings"),
        ({"signatures": []}, "has no signatures"),
        ({"payloadType": "text/plain"}, "payloadType is 'text/plain'"),
    ],
)
def test_json_envelopes_of_the_wrong_shape_are_named(
    change: dict[str, object], sentence: str
) -> None:
    """Each wrong envelope shape is refused with a sentence saying what is wrong."""
    value = {**sign_envelope(b"p", KEY).to_json_dict(), **change}
    with pytest.raises(VerificationError, match=re.escape(sentence)):
        verify_envelope_json(value, KEYS)


def test_envelope_parts_are_read_from_json() -> None:
    """envelope_json_parts gives the type, the base64 payload and the (keyid, sig) pairs."""
    envelope = sign_envelope(b"p", KEY)
    kind, payload, signatures = envelope_json_parts(envelope.to_json_dict())
    assert (kind, payload) == (PAYLOAD_TYPE, envelope.payload)
    assert signatures == [(KEY.key_id, envelope.signatures[0].sig)]
    with pytest.raises(VerificationError, match="is not"):
        envelope_json_parts([])


def test_the_payload_decodes_from_the_model() -> None:
    """Envelope.payload_bytes gives back the signed bytes."""
    assert sign_envelope(b"\x00\xffbytes", KEY).payload_bytes() == b"\x00\xffbytes"


def _foreign(payload: bytes, keyid: object = None, **extra: object) -> dict[str, object]:
    """An envelope as another DSSE tool may write it: URL-safe base64, keyid left out."""
    signature = KEY.sign(pae(PAYLOAD_TYPE, payload))
    entry: dict[str, object] = {"sig": base64.urlsafe_b64encode(signature).decode()}
    if keyid is not None:
        entry["keyid"] = keyid
    return {
        "payload": base64.urlsafe_b64encode(payload).decode(),
        "payloadType": PAYLOAD_TYPE,
        "signatures": [entry],
        **extra,
    }


URL_SAFE_PAYLOAD = b'{"a":"\xfb\xff"}'  # its base64 has '-' and '_' in the URL-safe alphabet


@pytest.mark.parametrize("keyid", [None, "", KEY.key_id])
def test_foreign_envelopes_verify_as_the_dsse_spec_reads_them(keyid: object) -> None:
    """No keyid (or an empty one), URL-safe base64 and an unknown field are what the DSSE
    parsing rules allow: the envelope verifies against the trusted key."""
    value = _foreign(URL_SAFE_PAYLOAD, keyid, extension={"x": 1})
    assert "-" in str(value["payload"]) or "_" in str(value["payload"])
    assert verify_foreign_envelope(value, KEYS) == URL_SAFE_PAYLOAD
    value["signatures"] = [{"keyid": None, "sig": value["signatures"][0]["sig"]}]  # type: ignore[index]
    assert verify_foreign_envelope(value, KEYS) == URL_SAFE_PAYLOAD


def test_a_foreign_envelope_no_trusted_key_signed_is_refused() -> None:
    """Without a keyid every trusted key is tried; when none verifies, the envelope is refused,
    and a keyid naming a trusted key must verify."""
    other = SigningKey.from_seed(b"\x02" * 32)
    with pytest.raises(VerificationError, match=re.escape("signed by (no keyid)")):
        verify_foreign_envelope(_foreign(b"p"), {other.key_id: other.public})
    named = _foreign(b"p", KEY.key_id)
    named["payload"] = base64.b64encode(b"q").decode()
    with pytest.raises(VerificationError, match="does not match the payload"):
        verify_foreign_envelope(named, KEYS)
    unknown = _foreign(b"p", "someone-else")
    with pytest.raises(VerificationError, match="no signature is by a known key"):
        verify_foreign_envelope(unknown, KEYS)


@pytest.mark.parametrize(
    ("value", "sentence"),
    [
        ([], "is not a JSON object"),
        ({"payload": "cA==", "signatures": []}, "must be strings"),
        ({"payload": "cA==", "payloadType": PAYLOAD_TYPE, "signatures": {}}, "not a list"),
        ({"payload": "cA==", "payloadType": PAYLOAD_TYPE, "signatures": [{}]}, "not a list"),
        (
            {
                "payload": "cA==",
                "payloadType": PAYLOAD_TYPE,
                "signatures": [{"sig": "", "keyid": 1}],
            },
            "not a list",
        ),
        ({"payload": "+-==", "payloadType": PAYLOAD_TYPE, "signatures": []}, "mixes the standard"),
        ({"payload": "c_", "payloadType": PAYLOAD_TYPE, "signatures": []}, "not valid base64"),
    ],
)
def test_foreign_envelopes_of_the_wrong_shape_are_named(value: object, sentence: str) -> None:
    """What the DSSE rules still require (payload, payloadType, signatures with sig, one base64
    alphabet) is refused with a sentence when missing."""
    with pytest.raises(VerificationError, match=re.escape(sentence)):
        verify_foreign_envelope(value, KEYS)
