"""The per-record checks of a bundle: digest, shape, DSSE envelope, leaf hash, inclusion proof."""

from __future__ import annotations

import hashlib
import itertools
import multiprocessing
import re
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import IO, Any

from pydantic import ValidationError

from gatekeeper.attest.canonical import CanonicalJSONError, canonical_json, strict_json_loads
from gatekeeper.attest.dsse import Envelope, verify_envelope
from gatekeeper.attest.keys import VerifyingKey
from gatekeeper.attest.statement import StatementError, parse_statement
from gatekeeper.errors import VerificationError
from gatekeeper.ledger._bundle_state import ZIP_ERRORS, BundleFailure, BundleState, first_line
from gatekeeper.ledger.bundle import DIGESTS_MEMBER, PROOFS_MEMBER, RECORD_FIELDS, RECORDS_MEMBER
from gatekeeper.ledger.merkle import leaf_hash, root_from_inclusion_proof

__all__ = ["check_records"]

_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX = re.compile(r"[0-9a-f]*")
_STRING_FIELDS = ("id", "project", "integrated_at")
_TYPES = {
    "log_index": "a non-negative integer",
    "id, project or integrated_at": "strings",
    "leaf_hash": "64 lowercase hex characters",
    "envelope": "an object",
}


def _record_problem(record: Any) -> str | None:
    """Why a parsed line is not a record of the API's shape, or None."""
    if not isinstance(record, dict):
        return "the line is not a JSON object"
    if record.keys() != RECORD_FIELDS:
        extra = sorted(record.keys() - RECORD_FIELDS)
        missing = sorted(RECORD_FIELDS - record.keys())
        return f"the record's fields are wrong (missing {missing}, unexpected {extra})"
    index = record["log_index"]
    checks = (
        (isinstance(index, int) and not isinstance(index, bool) and index >= 0, "log_index"),
        (all(isinstance(record[n], str) for n in _STRING_FIELDS), "id, project or integrated_at"),
        (
            isinstance(record["leaf_hash"], str) and _HEX64.fullmatch(record["leaf_hash"]),
            "leaf_hash",
        ),
        (isinstance(record["envelope"], dict), "envelope"),
    )
    for good, name in checks:
        if not good:
            return f"{name}: not of the record's type ({_TYPES[name]})"
    return None


def _proof_hashes(value: Any, log_index: int, size: int | None) -> list[bytes]:
    """The hashes of a proofs.jsonl line, checked against the record and the checkpoint."""
    if not isinstance(value, dict) or value.keys() != {"index", "size", "hashes"}:
        raise VerificationError('the proof is not {"index", "size", "hashes"}')
    if value["index"] != log_index:
        raise VerificationError(f"the proof is for log index {value['index']}")
    if size is not None and value["size"] != size:
        raise VerificationError(f"the proof is to tree size {value['size']}, not {size}")
    hashes = value["hashes"]
    joined = (
        "".join(hashes)
        if isinstance(hashes, list) and all(isinstance(h, str) and len(h) == 64 for h in hashes)
        else None
    )
    if joined is None or not _HEX.fullmatch(joined):
        raise VerificationError("the proof hashes are not 64 lowercase hex characters each")
    raw = bytes.fromhex(joined)
    return [raw[i : i + 32] for i in range(0, len(raw), 32)]


_Entry = tuple[int, bytes, bytes | None, bytes | None]
_CHUNK = 512


@dataclass(frozen=True)
class RecordContext:
    """What every record is checked against; small and picklable for worker processes."""

    raw_keys: tuple[bytes, ...]
    size: int | None
    root: bytes | None


@dataclass
class ChunkResult:
    """The failures of a chunk of records and the log index of each record seen."""

    failures: list[BundleFailure]
    indices: list[tuple[int, int]]
    count: int


_KEY_CACHE: dict[tuple[bytes, ...], dict[str, VerifyingKey]] = {}


def _keys(context: RecordContext) -> dict[str, VerifyingKey]:
    keys = _KEY_CACHE.get(context.raw_keys)
    if keys is None:
        loaded = [VerifyingKey.from_raw(raw) for raw in context.raw_keys]
        keys = _KEY_CACHE[context.raw_keys] = {key.key_id: key for key in loaded}
    return keys


class _RecordChecker:
    """Checks each record line against its digest, its envelope, its leaf and its proof."""

    def __init__(self, context: RecordContext) -> None:
        self.context = context
        self.keys = _keys(context)
        self.result = ChunkResult([], [], 0)

    def fail(self, member: str, message: str, **where: Any) -> None:
        self.result.failures.append(BundleFailure(member=member, message=message, **where))

    def check(self, number: int, line: bytes, proof: bytes | None, digest: bytes | None) -> None:
        self.result.count += 1
        where: dict[str, Any] = {"record": number}
        record: Any = None
        try:
            record = strict_json_loads(line)
        except CanonicalJSONError as error:
            problem: str | None = str(error)
        else:
            problem = _record_problem(record)
            if problem is None:
                where.update(record_id=record["id"], log_index=record["log_index"])
                self.result.indices.append((record["log_index"], number))
        if digest is None or hashlib.sha256(line).hexdigest().encode() != digest:
            self.fail(RECORDS_MEMBER, "the line differs from its digest in records.sha256", **where)
        if problem is not None:
            self.fail(RECORDS_MEMBER, problem, **where)
            return
        leaf = self.check_envelope(record, where)
        if leaf is not None:
            self.check_proof(leaf, record["log_index"], proof, where)

    def check_envelope(self, record: dict[str, Any], where: dict[str, Any]) -> bytes | None:
        """Verify the DSSE envelope and the leaf hash; return the leaf hash."""
        try:
            envelope = Envelope.model_validate(record["envelope"])
            parse_statement(verify_envelope(envelope, self.keys))
        except (ValidationError, VerificationError, StatementError) as error:
            self.fail(RECORDS_MEMBER, f"envelope: {first_line(error)}", **where)
        try:
            leaf = leaf_hash(canonical_json(record["envelope"]))
        except CanonicalJSONError as error:
            self.fail(RECORDS_MEMBER, f"envelope: {error}", **where)
            return None
        if leaf.hex() != record["leaf_hash"]:
            self.fail(RECORDS_MEMBER, "leaf_hash is not the hash of the envelope", **where)
        return leaf

    def check_proof(
        self, leaf: bytes, log_index: int, proof: bytes | None, where: dict[str, Any]
    ) -> None:
        if proof is None:
            self.fail(PROOFS_MEMBER, "no inclusion proof for this record", **where)
            return
        size, root = self.context.size, self.context.root
        try:
            hashes = _proof_hashes(strict_json_loads(proof), log_index, size)
            if (
                size is not None
                and root_from_inclusion_proof(leaf, log_index, size, hashes) != root
            ):
                raise VerificationError("the inclusion proof does not lead to the signed root")
        except (VerificationError, CanonicalJSONError) as error:
            self.fail(PROOFS_MEMBER, f"inclusion proof: {error}", **where)


def check_chunk(context: RecordContext, chunk: list[_Entry]) -> ChunkResult:
    """Check a chunk of records (runs in a worker process for large bundles)."""
    checker = _RecordChecker(context)
    for number, line, proof, digest in chunk:
        checker.check(number, line, proof, digest)
    return checker.result


def _lines(state: BundleState, name: str) -> Iterator[bytes]:
    """The lines of a member (without newlines), hashing them; stops at corruption."""
    try:
        handle: IO[bytes] = state.archive.open(name)
    except KeyError:
        state.fail(name, "the member is missing from the bundle")
        return
    except ZIP_ERRORS as error:
        state.fail(name, f"the zip member is corrupt ({error})")
        return
    digest = hashlib.sha256()
    with handle:
        try:
            for raw in handle:
                digest.update(raw)
                yield raw[:-1] if raw.endswith(b"\n") else raw
        except ZIP_ERRORS as error:
            state.fail(name, f"the zip member is corrupt ({error})")
            return
    state.digests[name] = digest.hexdigest()


def _chunks(state: BundleState) -> Iterator[list[_Entry]]:
    streams = [_lines(state, name) for name in (RECORDS_MEMBER, PROOFS_MEMBER, DIGESTS_MEMBER)]
    chunk: list[_Entry] = []
    for number, (line, proof, digest) in enumerate(itertools.zip_longest(*streams), start=1):
        if line is None:
            state.fail(PROOFS_MEMBER, "more proofs or digests than records", record=number)
            continue
        chunk.append((number, line, proof, digest))
        if len(chunk) == _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _parallel(
    context: RecordContext, chunks: Iterable[list[_Entry]], workers: int
) -> Iterator[ChunkResult]:
    """Results in order, with at most 2 chunks per worker in flight (bounded memory)."""
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=spawn) as pool:
        pending: deque[Future[ChunkResult]] = deque()
        for chunk in chunks:
            pending.append(pool.submit(check_chunk, context, chunk))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def check_records(state: BundleState, workers: int) -> None:
    """Check every record of the bundle, in `workers` processes when more than one."""
    context = RecordContext(
        raw_keys=tuple(key.raw() for key in state.envelope_keys.values()),
        size=state.checkpoint.size if state.checkpoint is not None else None,
        root=state.root,
    )
    chunks = _chunks(state)
    if workers > 1:
        results: Iterator[ChunkResult] = _parallel(context, chunks, workers)
    else:
        results = (check_chunk(context, chunk) for chunk in chunks)
    seen: dict[int, int] = {}
    for result in results:
        state.records += result.count
        state.failures.extend(result.failures)
        for log_index, number in result.indices:
            first = seen.setdefault(log_index, number)
            if first != number:
                state.fail(
                    RECORDS_MEMBER,
                    f"the same log index as record {first}",
                    record=number,
                    log_index=log_index,
                )
