"""C2SP `cosignature/v1` (tlog-cosignature): a witness's timestamped Ed25519 note signature.

A witness signs `cosignature/v1\\ntime <T>\\n` followed by the whole checkpoint body, and
publishes the signature line `— <name> <base64(key ID || u64 big-endian T || signature)>`; the
key ID is the first 4 bytes of SHA-256(name || "\\n" || 0x04 || public key).
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gatekeeper.attest.dsse import b64decode_strict
from gatekeeper.attest.keys import SigningKey, VerifyingKey
from gatekeeper.errors import LedgerError, VerificationError

__all__ = [
    "Cosignature",
    "cosign",
    "cosigned_message",
    "cosigner_key_hash",
    "cosigner_vkey",
    "parse_cosignature",
    "witnessed_by",
]

_COSIGNATURE_TYPE = b"\x04"
_PREFIX = "\u2014 "
_MAX_TIMESTAMP = 2**63 - 1


def cosigner_key_hash(name: str, key: VerifyingKey) -> bytes:
    """The 4-byte key ID of an Ed25519 cosigner `name` with `key`."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + _COSIGNATURE_TYPE + key.raw()).digest()[:4]


def cosigner_vkey(name: str, key: VerifyingKey) -> str:
    """The cosigner's verifier key `<name>+<hex key ID>+<base64(0x04 || public key)>`."""
    encoded = base64.b64encode(_COSIGNATURE_TYPE + key.raw()).decode("ascii")
    return f"{name}+{cosigner_key_hash(name, key).hex()}+{encoded}"


def cosigned_message(note: str, timestamp: int) -> bytes:
    """The bytes a cosigner signs for the checkpoint body `note` at POSIX time `timestamp`."""
    return f"cosignature/v1\ntime {timestamp}\n".encode("ascii") + note.encode("utf-8")


@dataclass(frozen=True)
class Cosignature:
    """One parsed cosignature line."""

    name: str
    key_hash: bytes
    timestamp: int
    signature: bytes

    def line(self) -> str:
        """The signature line, newline included."""
        raw = self.key_hash + struct.pack(">Q", self.timestamp) + self.signature
        return f"{_PREFIX}{self.name} {base64.b64encode(raw).decode('ascii')}\n"

    def by(self, key: VerifyingKey) -> bool:
        """True when the line's name and key ID are those of `key` (signature not checked)."""
        return cosigner_key_hash(self.name, key) == self.key_hash

    def verifies(self, note: str, key: VerifyingKey) -> bool:
        """True when this is `key`'s valid cosignature of the checkpoint body `note`."""
        return self.by(key) and key.verify(self.signature, cosigned_message(note, self.timestamp))


def _check_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise LedgerError("a cosigner name is non-empty, without spaces or '+'")


def cosign(note: str, name: str, key: SigningKey, timestamp: int) -> Cosignature:
    """The cosignature of the checkpoint body `note` by `key` named `name` at `timestamp`."""
    _check_name(name)
    if not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise LedgerError("a cosignature timestamp is between 0 and 2**63 - 1")
    signature = key.sign(cosigned_message(note, timestamp))
    return Cosignature(name, cosigner_key_hash(name, key.public), timestamp, signature)


def parse_cosignature(line: str) -> Cosignature:
    """Read one cosignature line (a trailing newline is allowed); VerificationError says why not."""
    text = line.removesuffix("\n")
    name, space, encoded = text.removeprefix(_PREFIX).rpartition(" ")
    if not text.startswith(_PREFIX) or not space or not name or "\n" in text:
        raise VerificationError(f"not a cosignature line: {text[:60]!r}")
    if any(c.isspace() or c == "+" for c in name):
        raise VerificationError(f"the cosigner name {name[:60]!r} has a space or '+'")
    raw = b64decode_strict(encoded, f"the cosignature of {name[:60]!r}")
    if len(raw) != 4 + 8 + 64:
        raise VerificationError(
            f"the cosignature of {name[:60]!r} is {len(raw)} bytes, not 76 (key ID, time, sig)"
        )
    (timestamp,) = struct.unpack(">Q", raw[4:12])
    if timestamp > _MAX_TIMESTAMP:
        raise VerificationError(f"the cosignature of {name[:60]!r} has a time beyond 2**63 - 1")
    return Cosignature(name, raw[:4], timestamp, raw[12:])


def witnessed_by(
    note: str, cosignatures: Iterable[Cosignature], witnesses: Mapping[str, VerifyingKey]
) -> set[str]:
    """The ids (in `witnesses`) of the witness keys with a valid cosignature of `note`."""
    return {
        key_id
        for cosignature in cosignatures
        for key_id, key in witnesses.items()
        if cosignature.verifies(note, key)
    }
