"""The state of one bundle verification: members read, keys, checkpoint, failures."""

from __future__ import annotations

import hashlib
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from gatekeeper.attest.canonical import CanonicalJSONError, strict_json_loads
from gatekeeper.attest.dsse import Envelope, verify_envelope
from gatekeeper.attest.keys import KeyFormatError, VerifyingKey
from gatekeeper.errors import InputError, VerificationError
from gatekeeper.ledger.bundle.writer import (
    BUNDLE_FORMAT,
    CHECKPOINT_MEMBER,
    KEYS_MEMBER,
    MANIFEST_MEMBER,
    MANIFEST_PAYLOAD_TYPE,
    Manifest,
)
from gatekeeper.ledger.checkpoint import Checkpoint, checkpoint_from_json, verify_checkpoint

__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_LINE_BYTES",
    "MAX_MEMBERS",
    "MAX_MEMBER_BYTES",
    "ZIP_ERRORS",
    "BundleFailure",
    "BundleState",
    "RecordSummary",
    "bounded_json",
    "check_member_count",
    "first_line",
]

MAX_MEMBER_BYTES = 8 * 1024 * 1024  # keys, checkpoint, manifest, README: small by nature
MAX_LINE_BYTES = 16 * 1024 * 1024  # one record (the service takes 2 MB bodies by default)
MAX_MEMBERS = 64  # a bundle has ten; the central directory is read only below this
MAX_JSON_DEPTH = 64  # a record nests about six deep

ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    KeyError,
    RuntimeError,  # an encrypted member
    NotImplementedError,  # a compression method zipfile does not have
)
_COMPRESSIONS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
_END = b"PK\x05\x06"
_END_SIZE = 22
_ZIP64_LOCATOR = b"PK\x06\x07"
_JSON_TOKENS = re.compile(rb'\\.|["\[\]{}]', re.DOTALL)


def _declared_members(tail: bytes, read_at: Any) -> int | None:
    """The member count the end-of-central-directory record declares (zip64 too), or None
    when there is none (zipfile then says it is not a zip)."""
    at = tail.rfind(_END)
    if at < 0 or len(tail) - at < _END_SIZE:
        return None
    count: int = struct.unpack_from("<H", tail, at + 10)[0]
    locator = tail[at - 20 : at] if at >= 20 else b""
    if count == 0xFFFF and locator[:4] == _ZIP64_LOCATOR:
        (offset,) = struct.unpack_from("<Q", locator, 8)
        record = read_at(offset, 56)
        if record[:4] == b"PK\x06\x06" and len(record) == 56:
            count = struct.unpack_from("<Q", record, 32)[0]
    return count


def check_member_count(path: str | Path) -> None:
    """InputError when the zip at `path` declares more than MAX_MEMBERS members, read from its
    last bytes before zipfile builds an entry per member of its central directory."""
    try:
        with Path(path).open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - _END_SIZE - 0xFFFF))
            tail = handle.read()

            def read_at(offset: int, length: int) -> bytes:
                handle.seek(offset)
                return handle.read(length)

            count = _declared_members(tail, read_at)
    except OSError as error:
        raise InputError(path, f"not a readable bundle zip ({error})") from error
    if count is not None and count > MAX_MEMBERS:
        raise InputError(
            path, f"the zip declares {count} members; a bundle has at most {MAX_MEMBERS}"
        )


def _depth_problem(data: bytes) -> str | None:
    """Why `data` nests deeper than MAX_JSON_DEPTH, found without parsing (brackets outside
    strings are counted only when there are enough of them at all), or None."""
    if data.count(b"[") + data.count(b"{") <= MAX_JSON_DEPTH:
        return None
    depth, in_string = 0, False
    for match in _JSON_TOKENS.finditer(data):
        token = match.group()
        if token[:1] == b"\\":
            continue
        if token == b'"':
            in_string = not in_string
        elif in_string:
            continue
        elif token in {b"[", b"{"}:
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return f"the JSON nests deeper than {MAX_JSON_DEPTH} levels"
        else:
            depth -= 1
    return None


def bounded_json(data: bytes) -> Any:
    """`strict_json_loads` of bundle data, its nesting depth checked before it is parsed (the
    integer size is checked from each number's digits before it is converted)."""
    problem = _depth_problem(data)
    if problem is not None:
        raise CanonicalJSONError(problem)
    return strict_json_loads(data)


class BundleFailure(BaseModel):
    """One thing that does not hold: where (member, record line, id, log index) and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    member: str
    message: str
    record: int | None = None
    record_id: str | None = None
    log_index: int | None = None

    def describe(self) -> str:
        """One line for a person."""
        if self.record is None:
            return f"{self.member}: {self.message}"
        who = f"record {self.record}"
        if self.record_id is not None:
            who += f" (id {self.record_id}, log index {self.log_index})"
        return f"{who}: {self.message}"


@dataclass(frozen=True, slots=True)
class RecordSummary:
    """What a record's VSA must agree with: its id, the SHA-256 of its canonical envelope and
    its gate result (PASSED/FAILED, None when it holds no verdict)."""

    record_id: str
    envelope_sha256: str
    result: str | None


class BundleState:
    """The state of one verification run over an open zip."""

    def __init__(self, archive: zipfile.ZipFile, pinned: dict[str, VerifyingKey] | None) -> None:
        self.archive = archive
        self.pinned = pinned
        self.failures: list[BundleFailure] = []
        self.digests: dict[str, str] = {}
        self.envelope_keys: dict[str, VerifyingKey] = {}
        self.trusted: dict[str, VerifyingKey] = {}
        self.checkpoint: Checkpoint | None = None
        self.root: bytes | None = None
        self.records = 0
        self.summaries: dict[int, RecordSummary] = {}
        self.refused: set[str] = set()
        """Members not read at all (encrypted, unknown compression): failed once, up front."""
        """By log index: what each record's VSA (in vsa.jsonl) must agree with."""

    def fail(self, member: str, message: str, **where: Any) -> None:
        self.failures.append(BundleFailure(member=member, message=message, **where))

    def read(self, name: str, *, required: bool = True) -> bytes | None:
        if name in self.refused:
            return None
        try:
            size = self.archive.getinfo(name).file_size
            if size > MAX_MEMBER_BYTES:
                self.fail(name, f"the member is {size} bytes, more than {MAX_MEMBER_BYTES}")
                return None
            data = self.archive.read(name)
        except KeyError:
            if required:
                self.fail(name, "the member is missing from the bundle")
            return None
        except ZIP_ERRORS as error:
            self.fail(name, f"the zip member is corrupt ({error})")
            return None
        self.digests[name] = hashlib.sha256(data).hexdigest()
        return data

    def read_json(self, name: str, *, required: bool = True) -> Any:
        data = self.read(name, required=required)
        if data is None:
            return None
        try:
            return bounded_json(data)
        except CanonicalJSONError as error:
            self.fail(name, str(error))
            return None

    def check_names(self) -> None:
        """A zip may hold two members of one name; tools disagree on which is meant."""
        names = self.archive.namelist()
        for name in sorted({n for n in names if names.count(n) > 1}):
            self.fail(name, "the bundle holds more than one member of this name")
        for info in self.archive.infolist():
            if info.flag_bits & 0x1:
                problem = "the member is encrypted (a bundle never is); it was not read"
            elif info.compress_type not in _COMPRESSIONS:
                problem = (
                    f"the member uses compression method {info.compress_type}, "
                    "not stored or deflate; it was not read"
                )
            else:
                continue
            if info.filename not in self.refused:
                self.refused.add(info.filename)
                self.fail(info.filename, problem)

    def load_keys(self) -> None:
        value = self.read_json(KEYS_MEMBER)
        entries = value.get("keys") if isinstance(value, dict) else None
        if value is not None and not isinstance(entries, list):
            self.fail(KEYS_MEMBER, 'expected {"keys": [...]}')
        for number, entry in enumerate(entries or [], start=1):
            try:
                key = VerifyingKey.from_public_pem(str(entry["public_key_pem"]))
            except (KeyFormatError, KeyError, TypeError) as error:
                self.fail(KEYS_MEMBER, f"key {number} is unusable: {error}")
                continue
            if entry.get("key_id") != key.key_id:
                self.fail(KEYS_MEMBER, f"key {number}: key_id is not the SHA-256 of its key")
                continue
            self.envelope_keys[key.key_id] = key
        if self.pinned is not None:
            self.envelope_keys = dict(self.pinned)
        self.trusted = dict(self.envelope_keys)

    def check_signed(self, checkpoint: Checkpoint, member: str) -> bool:
        key = self.trusted.get(checkpoint.key_id)
        if key is None:
            pinned = " (not a pinned key)" if self.pinned is not None else ""
            self.fail(member, f"signed by unknown key {checkpoint.key_id[:16]}...{pinned}")
            return False
        try:
            verify_checkpoint(checkpoint, key)
        except VerificationError as error:
            self.fail(member, str(error))
            return False
        return True

    def load_checkpoint(self) -> None:
        value = self.read_json(CHECKPOINT_MEMBER)
        if value is None:
            return
        try:
            self.checkpoint = checkpoint_from_json(value)
        except VerificationError as error:
            self.fail(CHECKPOINT_MEMBER, str(error))
            return
        self.root = self.checkpoint.root()
        self.check_signed(self.checkpoint, CHECKPOINT_MEMBER)

    def load_manifest(self) -> Manifest | None:
        value = self.read_json(MANIFEST_MEMBER)
        if value is None:
            return None
        try:
            envelope = Envelope.model_validate(value)
            payload = verify_envelope(envelope, self.trusted, payload_type=MANIFEST_PAYLOAD_TYPE)
            manifest = Manifest.model_validate(strict_json_loads(payload))
        except (ValidationError, VerificationError, CanonicalJSONError) as error:
            self.fail(MANIFEST_MEMBER, f"the manifest is not valid: {first_line(error)}")
            return None
        if manifest.format != BUNDLE_FORMAT:
            self.fail(MANIFEST_MEMBER, f"unknown bundle format {manifest.format!r}")
        return manifest

    def check_manifest(self, manifest: Manifest | None) -> None:
        if manifest is None:
            return
        present = set(self.archive.namelist())
        for name in sorted(set(manifest.files) | present):
            if name == MANIFEST_MEMBER:
                continue
            if name not in manifest.files:
                self.fail(name, "the member is not listed in the signed manifest")
                continue
            if name not in self.digests and self.read(name) is None:
                continue
            if manifest.files[name] != self.digests[name]:
                self.fail(name, "the member's SHA-256 differs from the signed manifest")
        if manifest.records != self.records:
            self.fail(MANIFEST_MEMBER, f"lists {manifest.records} records, found {self.records}")
        if self.checkpoint is not None and manifest.checkpoint != {
            "size": self.checkpoint.size,
            "root_hash": self.checkpoint.root_hash,
            "key_id": self.checkpoint.key_id,
        }:
            self.fail(MANIFEST_MEMBER, "names another checkpoint than checkpoint.json")


def first_line(error: Exception) -> str:
    """The first line of an error's text (pydantic errors span several)."""
    return str(error).splitlines()[0]
