"""Ed25519 signing and verifying keys; a key id is the SHA-256 (hex) of the raw public key."""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from nacl.bindings import crypto_core_ed25519_is_valid_point, crypto_sign_open
from nacl.exceptions import BadSignatureError

from gatekeeper.errors import AttestError

__all__ = ["KeyFormatError", "SigningKey", "VerifyingKey", "key_id_of"]


class KeyFormatError(AttestError):
    """A PEM that is not an Ed25519 key of the expected kind; `str()` is one sentence."""


def key_id_of(raw_public_key: bytes) -> str:
    """The key id: lowercase hex SHA-256 of the raw 32-byte public key."""
    return hashlib.sha256(raw_public_key).hexdigest()


class VerifyingKey:
    """An Ed25519 public key with its key id.

    Only points of the prime-order subgroup are keys: a small-order point (the identity, say)
    is refused, because OpenSSL's verification accepts a forged signature under it for any
    message, and a pinned, witness or bundle key must never be one anyone can sign for."""

    __slots__ = ("_key", "_raw", "key_id")

    def __init__(self, key: Ed25519PublicKey) -> None:
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        if not crypto_core_ed25519_is_valid_point(raw):
            raise KeyFormatError(
                "the public key is not a point of Ed25519's prime-order group (a small-order "
                "or invalid point, under which signatures can be forged)"
            )
        self._key = key
        self._raw = raw
        self.key_id: str = key_id_of(self._raw)

    @classmethod
    def from_public_pem(cls, pem: bytes | str) -> VerifyingKey:
        """Load a SubjectPublicKeyInfo PEM; only Ed25519 is accepted."""
        data = pem.encode("ascii", "replace") if isinstance(pem, str) else pem
        try:
            key = serialization.load_pem_public_key(data)
        except (ValueError, TypeError) as error:
            raise KeyFormatError("not a PEM public key") from error
        if not isinstance(key, Ed25519PublicKey):
            raise KeyFormatError(f"the public key is {type(key).__name__}, not Ed25519")
        return cls(key)

    @classmethod
    def from_raw(cls, raw: bytes) -> VerifyingKey:
        """Load a raw 32-byte Ed25519 public key."""
        if len(raw) != 32:
            raise KeyFormatError(f"a raw Ed25519 public key has 32 bytes, not {len(raw)}")
        return cls(Ed25519PublicKey.from_public_bytes(raw))

    def public_pem(self) -> str:
        """The SubjectPublicKeyInfo PEM text."""
        return self._key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")

    def raw(self) -> bytes:
        """The raw 32-byte public key."""
        return self._raw

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True when `signature` is this key's Ed25519 signature over `data`."""
        try:
            self._key.verify(signature, data)
        except InvalidSignature:
            return False
        return True

    def verify_fast(self, signature: bytes, data: bytes) -> bool:
        """`verify` through libsodium, for checking many signatures (about half the time of
        OpenSSL's here). libsodium is the stricter of the two (it also refuses small-order and
        non-canonical points), so a signature it accepts `verify` accepts too."""
        if len(signature) != 64:  # crypto_sign_open reads the first 64 bytes as the signature
            return False
        try:
            crypto_sign_open(signature + data, self._raw)
        except BadSignatureError:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VerifyingKey) and other._raw == self._raw

    def __hash__(self) -> int:
        return hash(self._raw)

    def __repr__(self) -> str:
        return f"VerifyingKey(key_id={self.key_id[:16]}...)"


class SigningKey:
    """An Ed25519 private key; never logged, never printed."""

    __slots__ = ("_key", "public")

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.public: VerifyingKey = VerifyingKey(key.public_key())

    @classmethod
    def generate(cls) -> SigningKey:
        """A fresh random key."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_private_pem(cls, pem: bytes) -> SigningKey:
        """Load an unencrypted PKCS#8 PEM; only Ed25519 is accepted."""
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as error:
            raise KeyFormatError("not an unencrypted PEM private key") from error
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFormatError(f"the private key is {type(key).__name__}, not Ed25519")
        return cls(key)

    @classmethod
    def from_seed(cls, seed: bytes) -> SigningKey:
        """A key from a raw 32-byte seed (deterministic; for tests and fixtures)."""
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    def private_pem(self) -> bytes:
        """Unencrypted PKCS#8 PEM; store it with file mode 0600."""
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def key_id(self) -> str:
        """The key id of the public half."""
        return self.public.key_id

    def sign(self, data: bytes) -> bytes:
        """The 64-byte Ed25519 signature over `data`."""
        return self._key.sign(data)

    def __repr__(self) -> str:
        return f"SigningKey(key_id={self.key_id[:16]}...)"
