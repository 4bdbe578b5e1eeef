"""The per-record checks of a bundle: digest, shape, DSSE envelope, leaf hash, inclusion proof."""

from __future__ import annotations

import hashlib
import itertools
import multiprocessing
import re
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import IO, Any

from gatekeeper.attest.canonical import CanonicalJSONError
from gatekeeper.attest.keys import VerifyingKey
from gatekeeper.attest.statement import Statement
from gatekeeper.attest.vsa import VsaError, decision_of
from gatekeeper.errors import VerificationError
from gatekeeper.ledger.bundle._state import (
    MAX_LINE_BYTES,
    ZIP_ERRORS,
    BundleFailure,
    BundleState,
    RecordSummary,
    bounded_json,
)
from gatekeeper.ledger.bundle.writer import (
    DIGESTS_MEMBER,
    PROOFS_MEMBER,
    RECORD_FIELDS,
    RECORDS_MEMBER,
    SUMMARIES_MEMBER,
)
from gatekeeper.ledger.key_chain import KeyPeriods
from gatekeeper.ledger.record_check import InclusionClaim, check_record

__all__ = ["check_records", "lines_of"]

_HEX64 = re.compile(r"[0-9a-f]{64}")
_CANONICAL_PROOF = re.compile(
    rb'\{"hashes":\[((?:"[0-9a-f]{64}"(?:,"[0-9a-f]{64}")*)?)\],'
    rb'"index":(0|[1-9][0-9]{0,15}),"size":(0|[1-9][0-9]{0,15})\}'
)
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


def _gate_result(statement: Statement) -> str | None:
    try:
        return decision_of(statement.predicate, statement.predicateType).result
    except VsaError:
        return None


def _parse_proof(line: bytes) -> tuple[Any, Any, list[bytes]]:
    """(index, size, hashes) of a proofs.jsonl line: one regex for the canonical form as
    written, else the strict JSON reader with a sentence for what is wrong."""
    match = _CANONICAL_PROOF.fullmatch(line)
    if match is not None:
        raw = bytes.fromhex(match[1].replace(b'"', b"").replace(b",", b"").decode("ascii"))
        return int(match[2]), int(match[3]), [raw[i : i + 32] for i in range(0, len(raw), 32)]
    value = bounded_json(line)
    if not isinstance(value, dict) or value.keys() != {"index", "size", "hashes"}:
        raise VerificationError('the proof is not {"index", "size", "hashes"}')
    hashes = value["hashes"]
    if not isinstance(hashes, list) or not all(
        isinstance(h, str) and _HEX64.fullmatch(h) for h in hashes
    ):
        raise VerificationError("the proof hashes are not 64 lowercase hex characters each")
    return value["index"], value["size"], [bytes.fromhex(h) for h in hashes]


_CHUNK = 512
_CHUNK_BYTES = 4 << 20  # a chunk holds at most this much (plus one line): bounded in flight
_BLOCK = 1 << 20


@dataclass(frozen=True)
class RecordContext:
    """What every record is checked against; small and picklable for worker processes."""

    raw_keys: tuple[bytes, ...]
    size: int | None
    root: bytes | None
    summaries: bool = True
    """Whether to keep what each VSA must agree with (only when the bundle has vsa.jsonl)."""
    periods: KeyPeriods | None = None
    """Where the followed key transitions retired each key."""


@dataclass
class Chunk:
    """Consecutive records from line `first` on, with their proof and digest lines (None when
    the member has no such line); plain lists of bytes, cheap to hand to a worker."""

    first: int
    records: list[bytes]
    proofs: list[bytes | None]
    digests: list[bytes | None]


@dataclass
class ChunkResult:
    """The failures of a chunk, each record's log index (-1 when unreadable) in order, and
    what each readable record's VSA must agree with, by log index."""

    first: int
    failures: list[BundleFailure]
    indices: list[int]
    summaries: dict[int, RecordSummary]


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
        self.failures: list[BundleFailure] = []
        self.indices: list[int] = []
        self.summaries: dict[int, RecordSummary] = {}

    def fail(self, member: str, message: str, **where: Any) -> None:
        self.failures.append(BundleFailure(member=member, message=message, **where))

    def check(self, number: int, line: bytes, proof: bytes | None, digest: bytes | None) -> None:
        where: dict[str, Any] = {"record": number}
        record: Any = None
        try:
            record = bounded_json(line)
        except CanonicalJSONError as error:
            problem: str | None = str(error)
        else:
            problem = _record_problem(record)
            if problem is None:
                where.update(record_id=record["id"], log_index=record["log_index"])
        self.indices.append(where.get("log_index", -1))
        if digest is None or hashlib.sha256(line).hexdigest().encode() != digest:
            self.fail(RECORDS_MEMBER, "the line differs from its digest in records.sha256", **where)
        if problem is not None:
            self.fail(RECORDS_MEMBER, problem, **where)
            return
        inclusion, proof_problem = self.read_proof(record["log_index"], proof)
        checked = check_record(
            record["envelope"],
            leaf_hash=record["leaf_hash"],
            log_index=record["log_index"],
            keys=self.keys,
            inclusion=inclusion,
            periods=self.context.periods,
        )
        for found in checked.problems:
            if found.part != "proof":
                self.fail(RECORDS_MEMBER, found.sentence, **where)
        if checked.encoded is not None and self.context.summaries:
            statement = checked.statement
            result = _gate_result(statement) if statement is not None else None
            encoded_digest = hashlib.sha256(checked.encoded).hexdigest()
            summary = RecordSummary(record["id"], encoded_digest, result)
            self.summaries[record["log_index"]] = summary
        if checked.encoded is None:
            return
        if proof_problem is not None:
            self.fail(PROOFS_MEMBER, proof_problem, **where)
        for found in checked.problems:
            if found.part == "proof":
                self.fail(PROOFS_MEMBER, found.sentence, **where)

    def read_proof(
        self, log_index: int, proof: bytes | None
    ) -> tuple[InclusionClaim | None, str | None]:
        """The record's inclusion proof to the bundle's checkpoint, or why it is unusable."""
        if proof is None:
            return None, "no inclusion proof for this record"
        size, root = self.context.size, self.context.root
        try:
            index, proof_size, hashes = _parse_proof(proof)
            if index != log_index:
                raise VerificationError(f"the proof is for log index {index}")
            if size is not None and proof_size != size:
                raise VerificationError(f"the proof is to tree size {proof_size}, not {size}")
        except (VerificationError, CanonicalJSONError) as error:
            return None, f"inclusion proof: {error}"
        if size is None or root is None:
            return None, None
        return InclusionClaim(size, root, hashes), None


def check_chunk(context: RecordContext, chunk: Chunk) -> ChunkResult:
    """Check a chunk of records (runs in a worker process for large bundles)."""
    checker = _RecordChecker(context)
    entries = zip(chunk.records, chunk.proofs, chunk.digests, strict=True)
    for number, (line, proof, digest) in enumerate(entries, start=chunk.first):
        checker.check(number, line, proof, digest)
    return ChunkResult(chunk.first, checker.failures, checker.indices, checker.summaries)


def lines_of(state: BundleState, name: str) -> Iterator[bytes]:
    """The lines of a member (without newlines), hashing them; stops at corruption."""
    if name in state.refused:
        return
    try:
        handle: IO[bytes] = state.archive.open(name)
    except KeyError:
        state.fail(name, "the member is missing from the bundle")
        return
    except ZIP_ERRORS as error:
        state.fail(name, f"the zip member is corrupt ({error})")
        return
    digest = hashlib.sha256()
    pending: list[bytes] = []  # the pieces of a line that spans blocks, joined once
    pending_bytes = 0
    with handle:
        try:
            while block := handle.read(_BLOCK):
                digest.update(block)
                parts = block.split(b"\n")
                pending.append(parts[0])
                pending_bytes += len(parts[0])
                if len(parts) > 1:
                    yield b"".join(pending)
                    yield from parts[1:-1]
                    pending, pending_bytes = [parts[-1]], len(parts[-1])
                if pending_bytes > MAX_LINE_BYTES:
                    state.fail(name, f"a line is longer than {MAX_LINE_BYTES} bytes")
                    return
        except ZIP_ERRORS as error:
            state.fail(name, f"the zip member is corrupt ({error})")
            return
    if pending_bytes:
        yield b"".join(pending)
    state.digests[name] = digest.hexdigest()


def _chunks(state: BundleState) -> Iterator[Chunk]:
    streams = [lines_of(state, name) for name in (RECORDS_MEMBER, PROOFS_MEMBER, DIGESTS_MEMBER)]
    chunk, held = Chunk(1, [], [], []), 0
    for number, (line, proof, digest) in enumerate(itertools.zip_longest(*streams), start=1):
        if line is None:
            state.fail(PROOFS_MEMBER, "more proofs or digests than records", record=number)
            continue
        chunk.records.append(line)
        chunk.proofs.append(proof)
        chunk.digests.append(digest)
        held += len(line) + len(proof or b"")
        if len(chunk.records) == _CHUNK or held > _CHUNK_BYTES:
            yield chunk
            chunk, held = Chunk(number + 1, [], [], []), 0
    if chunk.records:
        yield chunk


def _context() -> multiprocessing.context.BaseContext:
    """fork when this process has one thread (fast, and needs no importable __main__); spawn
    otherwise, since forking a threaded process can copy a held lock."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _parallel(
    context: RecordContext, chunks: Iterable[Chunk], workers: int
) -> Iterator[ChunkResult]:
    """Results in order, with at most 2 chunks per worker in flight (bounded memory)."""
    with ProcessPoolExecutor(max_workers=workers, mp_context=_context()) as pool:
        pending: deque[Future[ChunkResult]] = deque()
        for chunk in chunks:
            pending.append(pool.submit(check_chunk, context, chunk))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def check_records(state: BundleState, workers: int, periods: KeyPeriods | None = None) -> None:
    """Check every record of the bundle, in `workers` processes when more than one; none may
    carry a signature by a key `periods` says the log had retired before it."""
    context = RecordContext(
        raw_keys=tuple(key.raw() for key in state.envelope_keys.values()),
        size=state.checkpoint.size if state.checkpoint is not None else None,
        root=state.root,
        summaries=SUMMARIES_MEMBER in state.archive.namelist(),
        periods=periods,
    )
    chunks = _chunks(state)
    if workers > 1:
        results: Iterator[ChunkResult] = _parallel(context, chunks, workers)
    else:
        results = (check_chunk(context, chunk) for chunk in chunks)
    seen: dict[int, int] = {}
    for result in results:
        state.records += len(result.indices)
        state.failures.extend(result.failures)
        state.summaries.update(result.summaries)
        for number, log_index in enumerate(result.indices, start=result.first):
            if log_index < 0:
                continue
            first = seen.setdefault(log_index, number)
            if first != number:
                state.fail(
                    RECORDS_MEMBER,
                    f"the same log index as record {first}",
                    record=number,
                    log_index=log_index,
                )
