"""Ed25519 keys: PEM round trips, key ids, signatures."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key

from gatekeeper.attest.keys import KeyFormatError, SigningKey, VerifyingKey


def test_key_id_is_the_sha256_of_the_raw_public_key() -> None:
    """The key id is the lowercase hex SHA-256 of the 32 raw public key bytes."""
    key = SigningKey.from_seed(bytes(32))
    raw = key.public.raw()
    assert len(raw) == 32
    assert key.key_id == key.public.key_id == hashlib.sha256(raw).hexdigest()
    # RFC 8032 test 1 uses this seed's neighbour; here the all-zero seed's known public key.
    assert raw.hex() == "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29"


def test_pem_round_trips() -> None:
    """Private and public PEMs load back to the same key and key id."""
    key = SigningKey.generate()
    again = SigningKey.from_private_pem(key.private_pem())
    assert again.key_id == key.key_id
    public = VerifyingKey.from_public_pem(key.public.public_pem())
    assert public == key.public
    assert hash(public) == hash(key.public)
    assert public.key_id[:16] in repr(public)
    assert key.key_id[:16] in repr(key)
    assert "PRIVATE" not in repr(key)


def test_signatures_verify_only_for_their_data() -> None:
    """A signature verifies for the signed bytes and not for any other bytes or key."""
    key = SigningKey.generate()
    signature = key.sign(b"data")
    assert len(signature) == 64
    assert key.public.verify(signature, b"data")
    assert not key.public.verify(signature, b"Data")
    assert not SigningKey.generate().public.verify(signature, b"data")
    assert not key.public.verify(signature[:-1] + bytes([signature[-1] ^ 1]), b"data")


def test_signatures_match_rfc8032_test_1() -> None:
    """Signing follows RFC 8032 (test 1: the empty message)."""
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    key = SigningKey.from_seed(seed)
    assert key.public.raw().hex() == (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    )
    assert key.sign(b"").hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )


def test_other_key_types_are_refused() -> None:
    """An EC key, or something that is not a PEM, is refused with a sentence."""
    ec = generate_private_key(SECP256R1())
    private_pem = ec.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = ec.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(KeyFormatError, match="not Ed25519"):
        SigningKey.from_private_pem(private_pem)
    with pytest.raises(KeyFormatError, match="not Ed25519"):
        VerifyingKey.from_public_pem(public_pem)
    with pytest.raises(KeyFormatError, match="not a PEM public key"):
        VerifyingKey.from_public_pem("garbage")
    with pytest.raises(KeyFormatError, match="not an unencrypted PEM"):
        SigningKey.from_private_pem(b"garbage")
    with pytest.raises(KeyFormatError, match="32 bytes"):
        VerifyingKey.from_raw(b"short")


def test_the_fast_check_agrees_and_is_the_stricter() -> None:
    """`verify_fast` (libsodium) accepts what `verify` accepts for a real key, refuses changed
    data and a signature of the wrong length."""
    key = SigningKey.from_seed(b"\x01" * 32)
    signature = key.sign(b"note")
    assert key.public.verify_fast(signature, b"note")
    assert not key.public.verify_fast(signature, b"other")
    assert not key.public.verify_fast(signature[:63], b"note")
    assert not key.public.verify_fast(signature + b"n", b"ote")


@pytest.mark.parametrize(
    "raw",
    [
        b"\x01" + b"\x00" * 31,  # the identity: b"\x01" + 63 zero bytes "signs" any message
        b"\x00" * 32,  # order 4
        bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),  # 8
        bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),  # 2
    ],
)
def test_a_small_order_point_is_refused_as_a_key(raw: bytes) -> None:
    """A key anyone can forge signatures for is no key, in raw form and as a PEM."""
    with pytest.raises(KeyFormatError, match="prime-order group"):
        VerifyingKey.from_raw(raw)
    pem = SigningKey.from_seed(b"\x02" * 32).public.public_pem()
    prefix = base64.b64decode("".join(pem.splitlines()[1:-1]))[:-32]
    forged = base64.encodebytes(prefix + raw).decode()
    with pytest.raises(KeyFormatError, match="prime-order group"):
        VerifyingKey.from_public_pem(
            f"-----BEGIN PUBLIC KEY-----\n{forged}-----END PUBLIC KEY-----\n"
        )
