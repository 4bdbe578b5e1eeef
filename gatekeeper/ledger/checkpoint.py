"""Signed checkpoints (C2SP tlog-checkpoint body) and their C2SP signed-note form.

The checkpoint body (`note`) is three lines, each ending in a newline: the log's origin, the tree
size in decimal, the base64 root hash. The JSON form carries the raw Ed25519 signature over the
UTF-8 note; the signed-note form appends a blank line and `— <origin> <base64(key hash || sig)>`.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from gatekeeper.attest.dsse import b64decode_strict
from gatekeeper.attest.keys import KeyFormatError, SigningKey, VerifyingKey
from gatekeeper.errors import LedgerError, VerificationError

__all__ = [
    "Checkpoint",
    "checkpoint_from_json",
    "checkpoint_from_note",
    "note_key_hash",
    "parse_note",
    "parse_signed_note",
    "parse_verifier_key",
    "sign_checkpoint",
    "signed_note_text",
    "verifier_key",
    "verify_checkpoint",
    "verify_signed_note",
]

_ED25519_TYPE = b"\x01"
_SIGNATURE_PREFIX = "\u2014 "
_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")
_HEX64 = re.compile(r"[0-9a-f]{64}")


class Checkpoint(BaseModel):
    """A signed tree head: `{"size", "root_hash", "key_id", "note", "signature"}`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    size: int
    root_hash: str
    key_id: str
    note: str
    signature: str

    def root(self) -> bytes:
        """The root hash as bytes."""
        return bytes.fromhex(self.root_hash)

    def origin(self) -> str:
        """The origin line of the note."""
        return parse_note(self.note)[0]


def checkpoint_from_json(value: Any) -> Checkpoint:
    """Validate a parsed JSON value as a Checkpoint; VerificationError says what is wrong.

    The witnesses' `cosignatures` that `GET /v1/log/checkpoint` adds are not part of it."""
    if isinstance(value, dict) and "cosignatures" in value:
        value = {name: field for name, field in value.items() if name != "cosignatures"}
    try:
        checkpoint = Checkpoint.model_validate(value)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the checkpoint"
        raise VerificationError(f"not a checkpoint: {where}: {first['msg']}") from error
    if not _HEX64.fullmatch(checkpoint.root_hash):
        raise VerificationError("not a checkpoint: root_hash is not 64 lowercase hex characters")
    return checkpoint


def _note_body(origin: str, size: int, root: bytes) -> str:
    return f"{origin}\n{size}\n{base64.b64encode(root).decode('ascii')}\n"


def parse_note(note: str) -> tuple[str, int, bytes]:
    """Read `(origin, size, root)` from a checkpoint body; extension lines are allowed."""
    if not note.endswith("\n"):
        raise VerificationError("the checkpoint note does not end with a newline")
    lines = note[:-1].split("\n")
    if len(lines) < 3:
        raise VerificationError("the checkpoint note needs an origin, a size and a root hash")
    origin, size_text, root_text = lines[:3]
    if not origin or origin != origin.strip():
        raise VerificationError("the checkpoint note has an empty or padded origin line")
    if not _SIZE.fullmatch(size_text):
        raise VerificationError(f"the checkpoint size {size_text!r} is not a decimal number")
    root = b64decode_strict(root_text, "the checkpoint root hash")
    if len(root) != 32:
        raise VerificationError(f"the checkpoint root hash has {len(root)} bytes, not 32")
    if any(not line for line in lines[3:]):
        raise VerificationError("the checkpoint note has an empty extension line")
    return origin, int(size_text), root


def sign_checkpoint(origin: str, size: int, root: bytes, key: SigningKey) -> Checkpoint:
    """Sign the checkpoint body for the tree of `size` leaves with root `root`."""
    if not origin or any(c.isspace() or c == "+" for c in origin):
        raise LedgerError("a log origin is non-empty, without spaces or '+'")
    note = _note_body(origin, size, root)
    return Checkpoint(
        size=size,
        root_hash=root.hex(),
        key_id=key.key_id,
        note=note,
        signature=base64.b64encode(key.sign(note.encode("utf-8"))).decode("ascii"),
    )


def verify_checkpoint(cp: Checkpoint, key: VerifyingKey) -> None:
    """Check the signature of `cp` with `key` and that its fields agree with its note."""
    if cp.key_id != key.key_id:
        raise VerificationError(
            f"the checkpoint is signed by key {cp.key_id[:16]}..., not {key.key_id[:16]}..."
        )
    signature = b64decode_strict(cp.signature, "the checkpoint signature")
    if len(signature) != 64 or not key.verify(signature, cp.note.encode("utf-8")):
        raise VerificationError("the checkpoint signature does not match its note")
    _origin, size, root = parse_note(cp.note)
    if size != cp.size or root.hex() != cp.root_hash:
        raise VerificationError("the checkpoint size or root hash differs from its signed note")


def note_key_hash(origin: str, key: VerifyingKey) -> bytes:
    """C2SP signed-note key hash: first 4 bytes of SHA-256(name || "\\n" || 0x01 || public key)."""
    return hashlib.sha256(origin.encode("utf-8") + b"\n" + _ED25519_TYPE + key.raw()).digest()[:4]


def verifier_key(origin: str, key: VerifyingKey) -> str:
    """The C2SP verifier key string `<name>+<hex key hash>+<base64(0x01 || public key)>`."""
    encoded = base64.b64encode(_ED25519_TYPE + key.raw()).decode("ascii")
    return f"{origin}+{note_key_hash(origin, key).hex()}+{encoded}"


def parse_verifier_key(vkey: str) -> tuple[str, VerifyingKey]:
    """Read `(name, key)` from a verifier key string; the base64 part may contain '+'."""
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3 or not parts[0] or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
        raise VerificationError("not a verifier key: expected <name>+<8 hex>+<base64 key>")
    name, hash_hex, encoded = parts
    raw = b64decode_strict(encoded, "the verifier key")
    if raw[:1] != _ED25519_TYPE:
        raise VerificationError("the verifier key is not an Ed25519 (type 0x01) key")
    try:
        key = VerifyingKey.from_raw(raw[1:])
    except KeyFormatError as error:
        raise VerificationError(f"the verifier key is unusable: {error}") from error
    if note_key_hash(name, key).hex() != hash_hex:
        raise VerificationError("the verifier key hash does not match its name and key")
    return name, key


def signed_note_text(cp: Checkpoint, origin: str, key: VerifyingKey) -> str:
    """The C2SP signed note: body, blank line, `— <origin> <base64(key hash || signature)>`.

    `key` is the checkpoint's public key: the signature line starts with its 4-byte key hash.
    """
    if parse_note(cp.note)[0] != origin:
        raise LedgerError("the origin differs from the checkpoint's origin line")
    if key.key_id != cp.key_id:
        raise LedgerError("the key is not the one that signed the checkpoint")
    signature = b64decode_strict(cp.signature, "the checkpoint signature")
    encoded = base64.b64encode(note_key_hash(origin, key) + signature).decode("ascii")
    return f"{cp.note}\n{_SIGNATURE_PREFIX}{origin} {encoded}\n"


def parse_signed_note(text: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    """Split a signed note into its body and `(name, key hash, signature)` lines."""
    body, separator, signature_block = text.rpartition("\n\n")
    if not separator or not signature_block.endswith("\n"):
        raise VerificationError("not a signed note: no blank line before the signature lines")
    signatures: list[tuple[str, bytes, bytes]] = []
    for line in signature_block[:-1].split("\n"):
        name, space, encoded = line.removeprefix(_SIGNATURE_PREFIX).rpartition(" ")
        if not line.startswith(_SIGNATURE_PREFIX) or not space or not name:
            raise VerificationError(f"not a signed note signature line: {line[:60]!r}")
        raw = b64decode_strict(encoded, f"the note signature of {name!r}")
        if len(raw) < 5:
            raise VerificationError(f"the note signature of {name!r} is too short")
        signatures.append((name, raw[:4], raw[4:]))
    return body + "\n", signatures


def verify_signed_note(text: str, vkey: str) -> tuple[str, int, bytes]:
    """Verify a signed checkpoint note with a verifier key string; returns (origin, size, root)."""
    name, key = parse_verifier_key(vkey)
    body, signatures = parse_signed_note(text)
    key_hash = note_key_hash(name, key)
    matching = [
        sig for sig_name, sig_hash, sig in signatures if (sig_name, sig_hash) == (name, key_hash)
    ]
    if not matching:
        raise VerificationError(f"the note has no signature by the verifier key {name!r}")
    if not all(key.verify(sig, body.encode("utf-8")) for sig in matching):
        raise VerificationError(f"the note signature by {name!r} does not match its text")
    origin, size, root = parse_note(body)
    if origin != name:
        raise VerificationError(f"the note's origin {origin!r} is not the key name {name!r}")
    return origin, size, root


def checkpoint_from_note(text: str, keys: Iterable[VerifyingKey]) -> Checkpoint:
    """The checkpoint of a C2SP signed note (`GET /v1/log/checkpoint/note`), by the signature
    line of one of `keys` (matched by the origin and its note key hash); the signature itself is
    checked by `verify_checkpoint`. VerificationError says what is wrong."""
    note, signatures = parse_signed_note(text)
    origin, size, root = parse_note(note)
    by_hash = {note_key_hash(origin, key): key for key in keys}
    for name, key_hash, signature in signatures:
        key = by_hash.get(key_hash)
        if name == origin and key is not None:
            return Checkpoint(
                size=size,
                root_hash=root.hex(),
                key_id=key.key_id,
                note=note,
                signature=base64.b64encode(signature).decode("ascii"),
            )
    raise VerificationError("the signed note carries no signature by a pinned key")
