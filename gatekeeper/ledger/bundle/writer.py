"""The export bundle (a zip) and its streaming writer.

Members, in the order they are written::

    records.jsonl     one record per line, the API's record shape, RFC 8785 canonical JSON
    proofs.jsonl      line i: {"index", "size", "hashes"}: the inclusion proof of record i
                      to the bundle's checkpoint (RFC 9162)
    records.sha256    line i: SHA-256 (hex) of line i of records.jsonl (names a changed record)
    vsa.jsonl         optional: one line per verdict record, {"log_index", "record_id",
                      "envelope"}: its SLSA VSA v1 in a DSSE envelope signed by the service
    checkpoint.json   the signed checkpoint every proof leads to
    keys.json         the service's public keys, the `/v1/keys` shape
    transitions.jsonl optional: each key-transition record of the log, in log order,
                      {"record": {record shape}, "proof": {"index", "size", "hashes"}}; the
                      proof is to the checkpoint, or for a transition after it (the key that
                      signs the manifest came later) to the log's size at export
    witnesses.json    optional: {"size", "cosignatures": [line, ...]}: the witnesses' C2SP
                      cosignature/v1 lines of the bundle's checkpoint
    consistency.json  optional: {"old", "new", "hashes"} from an earlier tree size
    README.md         how an auditor checks the bundle
    manifest.json     a DSSE envelope signed by the service over the SHA-256 of every member

The leaf of a record is its envelope, so the envelope is protected by the Merkle tree; the
record's other fields (id, project, integrated_at) are protected by the signed manifest through
records.sha256. Memory stays bounded: records stream into the zip, proofs and digests are
spooled to a temporary file until `finish`.
"""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from typing import IO, Any

from pydantic import BaseModel, ConfigDict

from gatekeeper.attest.canonical import canonical_json
from gatekeeper.attest.dsse import sign_envelope
from gatekeeper.attest.keys import SigningKey
from gatekeeper.errors import LedgerError
from gatekeeper.ledger.bundle.readme import readme_text
from gatekeeper.ledger.checkpoint import Checkpoint

__all__ = [
    "BUNDLE_FORMAT",
    "CHECKPOINT_MEMBER",
    "CONSISTENCY_MEMBER",
    "DIGESTS_MEMBER",
    "KEYS_MEMBER",
    "MANIFEST_MEMBER",
    "MANIFEST_PAYLOAD_TYPE",
    "PROOFS_MEMBER",
    "README_MEMBER",
    "RECORDS_MEMBER",
    "RECORD_FIELDS",
    "SUMMARIES_MEMBER",
    "TRANSITIONS_MEMBER",
    "WITNESSES_MEMBER",
    "BundleWriter",
    "Manifest",
]

BUNDLE_FORMAT = "gatekeeper-bundle/1"
MANIFEST_PAYLOAD_TYPE = "application/vnd.gatekeeper.bundle-manifest+json"
RECORDS_MEMBER = "records.jsonl"
PROOFS_MEMBER = "proofs.jsonl"
DIGESTS_MEMBER = "records.sha256"
SUMMARIES_MEMBER = "vsa.jsonl"
CHECKPOINT_MEMBER = "checkpoint.json"
KEYS_MEMBER = "keys.json"
CONSISTENCY_MEMBER = "consistency.json"
TRANSITIONS_MEMBER = "transitions.jsonl"
WITNESSES_MEMBER = "witnesses.json"
README_MEMBER = "README.md"
MANIFEST_MEMBER = "manifest.json"
RECORD_FIELDS = frozenset({"id", "project", "log_index", "leaf_hash", "integrated_at", "envelope"})

_SPOOL_BYTES = 8 * 1024 * 1024
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


class Manifest(BaseModel):
    """The signed table of contents: what was exported and the SHA-256 of each member."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: str
    origin: str
    exported_at: str
    filters: dict[str, str]
    checkpoint: dict[str, int | str]
    records: int
    files: dict[str, str]


class _HashingWriter:
    """A zip member handle that also hashes what goes through it."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.handle.write(data)
        self.digest.update(data)


class BundleWriter:
    """Streams an export bundle into a binary file-like object (seekable or not).

    Call `write_record` once per record, then `finish` once; the zip is complete after `finish`.
    """

    def __init__(
        self,
        out: IO[bytes],
        *,
        signing_key: SigningKey,
        exported_at: str,
        filters: Mapping[str, str] | None = None,
    ) -> None:
        self._zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        self._key = signing_key
        self._exported_at = exported_at
        self._filters = dict(filters or {})
        self._records = _HashingWriter(self._zip.open(RECORDS_MEMBER, "w", force_zip64=True))
        self._spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 - closed in finish
        self._summaries = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 - closed in finish
        self._summary_count = 0
        self._transitions: list[tuple[dict[str, Any], list[str], int | None]] = []
        self._count = 0
        self._size: int | None = None
        self._finished = False

    def __enter__(self) -> BundleWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the zip and the spool; the bundle is incomplete unless `finish` ran."""
        if not self._finished:
            self._finished = True
            self._records.handle.close()
            self._spool.close()
            self._summaries.close()
            self._zip.close()

    @property
    def count(self) -> int:
        """Records written so far."""
        return self._count

    def write_record(
        self,
        record: Mapping[str, Any],
        proof_hashes: Sequence[bytes],
        summary: Mapping[str, Any] | None = None,
    ) -> None:
        """Add one record (the API's record shape) with its inclusion proof to the checkpoint,
        and its VSA (a DSSE envelope object) when it has one."""
        if self._finished:
            raise LedgerError("the bundle is already finished")
        missing = RECORD_FIELDS - record.keys()
        if missing:
            raise LedgerError(f"the record lacks {', '.join(sorted(missing))}")
        line = canonical_json(dict(record))
        self._records.write(line + b"\n")
        hashes = " ".join(h.hex() for h in proof_hashes)
        digest = hashlib.sha256(line).hexdigest()
        self._spool.write(f"{digest} {int(record['log_index'])} {hashes}\n".encode("ascii"))
        self._count += 1
        if summary is not None:
            entry = {"log_index": record["log_index"], "record_id": record["id"]}
            self._summaries.write(canonical_json({**entry, "envelope": dict(summary)}) + b"\n")
            self._summary_count += 1

    def write_transition(
        self,
        record: Mapping[str, Any],
        proof_hashes: Sequence[bytes],
        proof_size: int | None = None,
    ) -> None:
        """Add one key-transition record (the API's record shape, in log order) with its
        inclusion proof to the checkpoint, or, for a transition the log appended after the
        bundle's checkpoint (the key that signs the manifest came later), to the tree of
        `proof_size`; the verifier follows them from the pinned key."""
        if self._finished:
            raise LedgerError("the bundle is already finished")
        missing = RECORD_FIELDS - record.keys()
        if missing:
            raise LedgerError(f"the record lacks {', '.join(sorted(missing))}")
        self._transitions.append((dict(record), [h.hex() for h in proof_hashes], proof_size))

    def finish(
        self,
        checkpoint: Checkpoint,
        keys: Mapping[str, Any],
        *,
        consistency: Mapping[str, Any] | None = None,
        witnesses: Mapping[str, Any] | None = None,
    ) -> None:
        """Write the proofs, digests, checkpoint, keys, README and the signed manifest.

        `consistency` is `{"old": N, "new": checkpoint.size, "hashes": [hex, ...]}`, the proof
        from an earlier tree size (the service adds it for `GET /v1/export?since_size=N`);
        `witnesses` is `{"size": checkpoint size, "cosignatures": [line, ...]}`.
        """
        if self._finished:
            raise LedgerError("the bundle is already finished")
        if consistency is not None and (
            set(consistency) != {"old", "new", "hashes"} or consistency["new"] != checkpoint.size
        ):
            raise LedgerError('consistency must be {"old", "new": checkpoint size, "hashes"}')
        self._finished = True
        self._records.handle.close()
        files = {RECORDS_MEMBER: self._records.digest.hexdigest()}
        files.update(self._write_spooled(checkpoint.size))
        if self._summary_count:
            files[SUMMARIES_MEMBER] = self._write_summaries()
        self._summaries.close()
        files[CHECKPOINT_MEMBER] = self._write_json(CHECKPOINT_MEMBER, checkpoint.model_dump())
        files[KEYS_MEMBER] = self._write_json(KEYS_MEMBER, dict(keys))
        if self._transitions:
            lines = b"".join(
                canonical_json(
                    {
                        "record": record,
                        "proof": {
                            "index": record["log_index"],
                            "size": size or checkpoint.size,
                            "hashes": hashes,
                        },
                    }
                )
                + b"\n"
                for record, hashes, size in self._transitions
            )
            files[TRANSITIONS_MEMBER] = self._write(TRANSITIONS_MEMBER, lines)
        if witnesses is not None:
            files[WITNESSES_MEMBER] = self._write_json(WITNESSES_MEMBER, dict(witnesses))
        if consistency is not None:
            files[CONSISTENCY_MEMBER] = self._write_json(CONSISTENCY_MEMBER, dict(consistency))
        files[README_MEMBER] = self._write(README_MEMBER, readme_text(checkpoint, self._count))
        manifest = Manifest(
            format=BUNDLE_FORMAT,
            origin=checkpoint.origin(),
            exported_at=self._exported_at,
            filters=self._filters,
            checkpoint={
                "size": checkpoint.size,
                "root_hash": checkpoint.root_hash,
                "key_id": checkpoint.key_id,
            },
            records=self._count,
            files=files,
        )
        payload = canonical_json(manifest.model_dump())
        envelope = sign_envelope(payload, self._key, payload_type=MANIFEST_PAYLOAD_TYPE)
        self._write_json(MANIFEST_MEMBER, envelope.to_json_dict())
        self._zip.close()

    def _write_spooled(self, size: int) -> dict[str, str]:
        self._spool.seek(0)
        proofs = _HashingWriter(self._zip.open(PROOFS_MEMBER, "w", force_zip64=True))
        for raw in self._spool:
            _digest, index, *hashes = raw.decode("ascii").split()
            proof = {"index": int(index), "size": size, "hashes": hashes}
            proofs.write(canonical_json(proof) + b"\n")
        proofs.handle.close()
        self._spool.seek(0)
        digests = _HashingWriter(self._zip.open(DIGESTS_MEMBER, "w", force_zip64=True))
        for raw in self._spool:
            digests.write(raw[:64] + b"\n")
        digests.handle.close()
        self._spool.close()
        return {
            PROOFS_MEMBER: proofs.digest.hexdigest(),
            DIGESTS_MEMBER: digests.digest.hexdigest(),
        }

    def _write_summaries(self) -> str:
        self._summaries.seek(0)
        member = _HashingWriter(self._zip.open(SUMMARIES_MEMBER, "w", force_zip64=True))
        while block := self._summaries.read(1 << 20):
            member.write(block)
        member.handle.close()
        return member.digest.hexdigest()

    def _write_json(self, name: str, value: Any) -> str:
        return self._write(name, canonical_json(value) + b"\n")

    def _write(self, name: str, data: bytes) -> str:
        info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        self._zip.writestr(info, data)
        return hashlib.sha256(data).hexdigest()
