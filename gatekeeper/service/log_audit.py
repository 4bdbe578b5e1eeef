"""The audit of a stored log: every row of `records`, `log_leaves`, `tree_nodes` and
`checkpoints` recomputed from the rows below it, each mismatch named.

The chain that is checked, bottom up, each link on its own so a fault is named where it is:
a record's envelope hashes to its leaf (`records.leaf_hash` and `log_leaves.leaf_hash`); the
leaf is the stored level-0 node; each stored node of level L > 0 is the hash of its two stored
children; each checkpoint's root is the root folded from those stored nodes at its size, and its
signature verifies with its key from `signing_keys`. Every checkpoint root is thereby the root of
a prefix of one and the same verified leaf sequence, which is what consistency between any two
stored checkpoints (consecutive ones included) means; a checkpoint whose root differs is named
as inconsistent with the stored log.

Rows are read in batches of `_BATCH` leaves (one query per table and batch, each bounded), so
memory does not grow with the log: besides one batch only the nodes of level `_LEVEL` and up are
kept (two per `_BATCH` leaves). Checkpoint signatures, the slow part (one Ed25519 verification
per stored checkpoint, and the service stores one per append), are checked in worker processes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Engine, TextClause, text
from sqlalchemy.engine import Connection

from gatekeeper.attest.keys import KeyFormatError, VerifyingKey
from gatekeeper.errors import VerificationError
from gatekeeper.ledger import merkle_hash
from gatekeeper.ledger.checkpoint import Checkpoint, verify_checkpoint
from gatekeeper.ledger.key_chain import KeyPeriods, is_transition, verify_transition
from gatekeeper.service.database import driver_sql, is_sqlite

__all__ = [
    "AuditFinding",
    "AuditPlugin",
    "AuditReport",
    "AuditedCheckpoint",
    "AuditedRecord",
    "KeyChainCheck",
    "audit_log",
    "key_transition_checks",
]

_LEVEL = 12
_BATCH = 1 << _LEVEL
_PARALLEL_CHECKPOINTS = 20_000
_MAX_WORKERS = 8

_SIZES = text(
    "SELECT (SELECT max(leaf_index) FROM log_leaves), (SELECT max(size) FROM checkpoints),"
    " (SELECT max(log_index) FROM records), (SELECT count(*) FROM records),"
    " (SELECT count(*) FROM tree_nodes)"
)
_LEAVES = text(
    "SELECT leaf_index, leaf_hash, record_id FROM log_leaves"
    " WHERE leaf_index >= :low AND leaf_index < :high"
)
_RECORDS = text(
    "SELECT id, log_index, leaf_hash, envelope FROM records"
    " WHERE log_index >= :low AND log_index < :high"
)
_CHECKPOINTS = text(
    "SELECT size, root_hash, key_id, note, signature, created_at FROM checkpoints"
    " WHERE size > :low AND size <= :high ORDER BY size"
)
_KEYS = text("SELECT key_id, public_key_pem FROM signing_keys")
_UNLINKED_RECORDS = text(
    "SELECT r.id, r.log_index FROM records AS r LEFT JOIN log_leaves AS l"
    " ON l.record_id = r.id AND l.leaf_index = r.log_index"
    " WHERE l.record_id IS NULL ORDER BY r.log_index"
)


@dataclass(frozen=True)
class AuditFinding:
    """One stored row that does not match what it is recomputed from."""

    table: str
    message: str
    record_id: str | None = None
    log_index: int | None = None
    node: tuple[int, int] | None = None
    sizes: tuple[int, int] | None = None
    """Checkpoints: the first and last size of a run of consecutive ones failing alike."""

    def describe(self) -> str:
        """One line for a person, naming the row."""
        if self.record_id is not None:
            return f"record {self.record_id} (log index {self.log_index}): {self.message}"
        if self.log_index is not None:
            return f"log index {self.log_index}: {self.message}"
        if self.node is not None:
            return f"tree node (level {self.node[0]}, index {self.node[1]}): {self.message}"
        if self.sizes is not None:
            first, last = self.sizes
            which = f"size {first}" if first == last else f"sizes {first} to {last}"
            count = "" if first == last else f" ({last - first + 1} checkpoints)"
            return f"checkpoint of {which}{count}: {self.message}"
        return f"{self.table}: {self.message}"


@dataclass(frozen=True)
class AuditedRecord:
    """A record as the audit read it, for plug-in checks (its envelope hashed to its leaf)."""

    record_id: str
    log_index: int
    envelope: bytes


@dataclass(frozen=True)
class AuditedCheckpoint:
    """A stored checkpoint as the audit read it, for plug-in checks."""

    checkpoint: Checkpoint
    created_at: str


class AuditPlugin(Protocol):
    """A further check that sees every record and checkpoint in log order (the key-transition
    check is one); it returns what does not hold."""

    def record(self, record: AuditedRecord) -> Iterable[AuditFinding]:
        """Check one record (its leaf already matched its envelope)."""

    def checkpoint(self, checkpoint: AuditedCheckpoint) -> Iterable[AuditFinding]:
        """Check one stored checkpoint."""

    def finish(self) -> Iterable[AuditFinding]:
        """What holds only after the whole log was seen."""


_FIRST_KEY = text("SELECT public_key_pem FROM signing_keys ORDER BY created_at, key_id LIMIT 1")


class KeyChainCheck:
    """The log's key transitions followed from its first key: each transition must be signed
    by the key it retires (one the chain reached) and by the one it names, and each checkpoint
    by the key current at its size (`KeyPeriods.problem`)."""

    def __init__(self, first: VerifyingKey | None) -> None:
        self.keys: dict[str, VerifyingKey] = {} if first is None else {first.key_id: first}
        self.periods = KeyPeriods({}, {}, 0)

    def record(self, record: AuditedRecord) -> Iterable[AuditFinding]:
        try:
            envelope = json.loads(record.envelope)
        except ValueError:  # the leaf check names an envelope that is not JSON
            return ()
        if not is_transition(envelope):
            return ()
        try:
            transition = verify_transition(envelope, self.keys)
        except VerificationError as error:
            message = f"key transition refused: {error}"
            return (AuditFinding("records", message, record.record_id, record.log_index),)
        self.keys[transition.key_id] = VerifyingKey.from_public_pem(transition.public_key_pem)
        self.periods.retired[transition.previous_key_id] = record.log_index
        self.periods.started[transition.key_id] = record.log_index
        return ()

    def checkpoint(self, checkpoint: AuditedCheckpoint) -> Iterable[AuditFinding]:
        stored = checkpoint.checkpoint
        if self.keys and stored.key_id not in self.keys:
            message = f"signed by key {stored.key_id[:16]}..., which no key transition reaches"
        else:
            message = self.periods.problem(stored) or ""
        if not message:
            return ()
        return (AuditFinding("checkpoints", message, sizes=(stored.size, stored.size)),)

    def finish(self) -> Iterable[AuditFinding]:
        return ()


def key_transition_checks(connection: Connection) -> list[AuditPlugin]:
    """The checks of the key-transition records, from the oldest key the log knows."""
    pem = connection.execute(_FIRST_KEY).scalar()
    try:
        first = None if pem is None else VerifyingKey.from_public_pem(pem)
    except KeyFormatError:  # named by the signing_keys check
        first = None
    return [KeyChainCheck(first)]


@dataclass
class AuditReport:
    """What was checked and how many rows did not match."""

    size: int = 0
    records: int = 0
    nodes: int = 0
    checkpoints: int = 0
    findings: int = 0

    @property
    def ok(self) -> bool:
        """True when every row matched."""
        return self.findings == 0


@dataclass
class _CheckpointRun:
    """Consecutive failing checkpoints with the same message, reported as one line."""

    message: str
    first: int
    last: int


@dataclass
class _Audit:
    connection: Connection
    report_finding: Callable[[AuditFinding], None]
    plugins: Sequence[AuditPlugin]
    keys: dict[str, VerifyingKey]
    report: AuditReport = field(default_factory=AuditReport)
    high: dict[tuple[int, int], bytes] = field(default_factory=dict)
    """Stored nodes of level `_LEVEL` and up seen so far (the roots and upper nodes need them)."""
    linked_records: int = 0
    missing_nodes: int = 0
    run: _CheckpointRun | None = None
    origin: str | None = None
    last_created: str = ""

    def rows(self, clause: TextClause, params: dict[str, Any] | None = None) -> list[Any]:
        """The rows of a bounded query, through the driver's cursor in the audit's transaction
        (SQLAlchemy's per-row work would double the audit's time on a large log)."""
        cursor = self.connection.connection.cursor()
        try:
            cursor.execute(driver_sql(self.connection.engine, clause), params or {})
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def found(self, finding: AuditFinding) -> None:
        self.report.findings += 1
        self.report_finding(finding)

    # the leaves and records of one batch -------------------------------------------------

    def leaves(self, low: int, high: int, nodes: dict[tuple[int, int], bytes]) -> None:
        """Checks leaves [low, high) against their level-0 nodes and the records stored at
        their index (two range queries, matched here: a join costs a lookup per row)."""
        span = {"low": low, "high": high}
        records = {int(row[1]): row for row in self.rows(_RECORDS, span)}
        leaves = {int(row[0]): row for row in self.rows(_LEAVES, span)}
        for index in range(low, high):
            found = leaves.get(index)
            record = records.get(index)
            if found is None:
                if record is None:  # a record at the index is named by the unlinked query
                    self.found(AuditFinding("log_leaves", _NO_LEAF, log_index=index))
                continue
            leaf, leaf_record = bytes(found[1]), found[2]
            stored = nodes.get((0, index))
            if stored is not None and stored != leaf:
                self.found(AuditFinding("tree_nodes", _LEAF_NODE, node=(0, index)))
            if record is None or record[0] != leaf_record:
                self.found(AuditFinding("records", _NO_RECORD, leaf_record, index))
                continue
            self.linked_records += 1
            self.record(index, leaf, record)

    def record(self, index: int, leaf: bytes, row: Sequence[Any]) -> None:
        """Checks the record `(id, log_index, leaf_hash, envelope)` that leaf `index` names."""
        record_id, hex_leaf, envelope = row[0], row[2], bytes(row[3])
        self.report.records += 1
        computed = hashlib.sha256(b"\x00" + envelope).digest()
        if computed != leaf or hex_leaf != computed.hex():
            self.found(AuditFinding("records", _CHANGED, record_id, index))
        for plugin in self.plugins:
            for finding in plugin.record(AuditedRecord(record_id, index, envelope)):
                self.found(finding)

    # the tree nodes that complete in one batch -------------------------------------------

    def nodes(self, low: int, high: int) -> dict[tuple[int, int], bytes]:
        """The stored nodes whose leaf range ends in (low, high], each checked against its
        children (level 0: against its leaf, in `leaves`); missing ones are named."""
        ranges = [
            (level, low >> level, (high >> level) - 1)
            for level in range(high.bit_length())
            if (high >> level) - 1 >= low >> level
        ]
        terms = " OR ".join(
            f"(level = {level} AND node_index BETWEEN {first} AND {last})"
            for level, first, last in ranges
        )
        statement = text(f"SELECT level, node_index, hash FROM tree_nodes WHERE {terms}")  # noqa: S608 - ints computed here
        stored = {(lv, ix): bytes(digest) for lv, ix, digest in self.rows(statement)}
        for level, first, last in ranges:
            for index in range(first, last + 1):
                self.node(stored, level, index)
        for (level, index), digest in stored.items():
            if level >= _LEVEL:
                self.high[(level, index)] = digest
        return stored

    def node(self, stored: dict[tuple[int, int], bytes], level: int, index: int) -> None:
        digest = stored.get((level, index))
        self.report.nodes += 1
        if digest is None:
            self.missing_nodes += 1
            self.found(AuditFinding("tree_nodes", "the node is missing", node=(level, index)))
            return
        if level == 0:
            return
        left = self.lookup(stored, level - 1, 2 * index)
        right = self.lookup(stored, level - 1, 2 * index + 1)
        if left is not None and right is not None and merkle_hash.node_hash(left, right) != digest:
            self.found(AuditFinding("tree_nodes", _NODE, node=(level, index)))

    def lookup(self, stored: dict[tuple[int, int], bytes], level: int, index: int) -> bytes | None:
        found = stored.get((level, index))
        return found if found is not None else self.high.get((level, index))

    # checkpoints --------------------------------------------------------------------------

    def checkpoints(
        self, rows: Sequence[Sequence[Any]], stored: dict[tuple[int, int], bytes]
    ) -> None:
        view = {**self.high, **stored}
        for row in rows:
            self.report.checkpoints += 1
            message = self.checkpoint_problem(row, view)
            if message is not None:
                self.checkpoint_failed(int(row[0]), message)
        for plugin in self.plugins:
            for size, root_hash, key_id, note, signature, created_at in rows:
                checkpoint = Checkpoint.model_construct(
                    size=int(size),
                    root_hash=root_hash,
                    key_id=key_id,
                    note=note,
                    signature=signature,
                )
                for finding in plugin.checkpoint(AuditedCheckpoint(checkpoint, created_at)):
                    self.found(finding)

    def checkpoint_problem(
        self, row: Sequence[Any], view: dict[tuple[int, int], bytes]
    ) -> str | None:
        """What is wrong with the checkpoint row `(size, root_hash, key_id, note, signature,
        created_at)` besides its signature (checked in `bad_signatures`), or None."""
        size, root_hash, key_id, note, created_at = int(row[0]), row[1], row[2], row[3], row[5]
        root = _root(size, view)
        if root is None:
            return "its root cannot be recomputed: a tree node below it is missing"
        if root.hex() != root_hash:
            return _INCONSISTENT
        origin = note.partition("\n")[0]
        if self.origin is None:
            self.origin = origin
        if origin != self.origin:
            return f"its origin {origin[:80]!r} is not the log's {self.origin[:80]!r}"
        earlier = created_at < self.last_created
        self.last_created = max(created_at, self.last_created)
        if earlier:
            return "it was created before the checkpoint of a smaller size"
        if key_id not in self.keys:
            return f"signed by key {key_id[:16]}..., which is not in signing_keys"
        return None

    def checkpoint_failed(self, size: int, message: str) -> None:
        run = self.run
        if run is not None and run.message == message and run.last + 1 == size:
            run.last = size
            return
        self.flush_run()
        self.run = _CheckpointRun(message, size, size)

    def flush_run(self) -> None:
        if self.run is not None:
            run, self.run = self.run, None
            self.found(AuditFinding("checkpoints", run.message, sizes=(run.first, run.last)))


_NO_LEAF = "no leaf in log_leaves: the record at this index was removed"
_NO_RECORD = "the leaf names this record, which is not stored at this index (removed or moved)"
_CHANGED = "the stored envelope does not hash to its leaf hash (changed after it was stored)"
_LEAF_NODE = "differs from the leaf hash in log_leaves"
_NODE = "is not the hash of its two stored children"
_INCONSISTENT = (
    "its root is not the stored tree's root at that size: it is not consistent with the "
    "stored log (nor with the checkpoints before it)"
)


def _root(size: int, nodes: dict[tuple[int, int], bytes]) -> bytes | None:
    """RFC 6962 root of the first `size` leaves folded from stored perfect subtrees (one per
    set bit of `size`, the smallest first), or None when one is missing; `merkle_tree.root_hash`
    computes the same, this is its inner loop without the calls (it runs once per checkpoint)."""
    sha256 = hashlib.sha256
    result = b""
    for bit in range(size.bit_length()):
        if size >> bit & 1:
            node = nodes.get((bit, (size >> bit) - 1))
            if node is None:
                return None
            result = sha256(b"\x01" + node + result).digest() if result else node
    return result if result else merkle_hash.EMPTY_ROOT


# checkpoint signatures, in worker processes for a large log -------------------------------

_Signed = tuple[int, str, str, str, str]
"""(size, root_hash, key_id, note, signature) of one stored checkpoint."""


def _signed_alike(key: VerifyingKey, size: int, root_hash: str, note: str, signature: str) -> bool:
    """The fast path: the signature verifies over the note (libsodium, half of OpenSSL's time
    on the million checks of a large log) and the note's size and root lines are the row's
    (the general check, with its sentence, runs only when this is False)."""
    lines = note.split("\n", 3)
    try:
        raw = base64.b64decode(signature, validate=True)
        root = base64.b64encode(bytes.fromhex(root_hash)).decode("ascii")
    except (binascii.Error, ValueError):
        return False
    return (
        len(lines) == 4
        and lines[1:3] == [str(size), root]
        and len(raw) == 64
        and key.verify_fast(raw, note.encode("utf-8"))
    )


def bad_signatures(keys: dict[str, bytes], signed: list[_Signed]) -> list[tuple[int, str]]:
    """(size, sentence) of each checkpoint whose signature or note does not verify with its key
    (raw Ed25519 public keys by key id; an unknown key is named by the main process)."""
    loaded = {key_id: VerifyingKey.from_raw(raw) for key_id, raw in keys.items()}
    failed = []
    for size, root_hash, key_id, note, signature in signed:
        key = loaded.get(key_id)
        if key is None or _signed_alike(key, size, root_hash, note, signature):
            continue
        checkpoint = Checkpoint.model_construct(
            size=size, root_hash=root_hash, key_id=key_id, note=note, signature=signature
        )
        try:
            verify_checkpoint(checkpoint, key)
        except VerificationError as error:
            failed.append((size, str(error)))
        else:
            failed.append((size, "its note is not in the form the service writes"))
    return failed


def _mp_context() -> multiprocessing.context.BaseContext:
    """fork in a one-thread process (fast); spawn otherwise, since forking a threaded process
    can copy a held lock."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


class _Signatures:
    """Checks checkpoint signatures batch by batch, inline or in a bounded process pool."""

    def __init__(self, keys: dict[str, VerifyingKey], workers: int) -> None:
        self.keys = {key_id: key.raw() for key_id, key in keys.items()}
        self.pool = (
            ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context())
            if workers > 1
            else None
        )
        self.workers = workers
        self.pending: deque[Future[list[tuple[int, str]]]] = deque()

    def submit(self, signed: list[_Signed]) -> Iterator[tuple[int, str]]:
        """Queues a batch; yields the failures of batches that are done (bounded in flight)."""
        if self.pool is None:
            yield from bad_signatures(self.keys, signed)
            return
        self.pending.append(self.pool.submit(bad_signatures, self.keys, signed))
        while len(self.pending) > 2 * self.workers:
            yield from self.pending.popleft().result()

    def drain(self) -> Iterator[tuple[int, str]]:
        """The failures of every batch still in flight; shuts the pool down."""
        while self.pending:
            yield from self.pending.popleft().result()
        if self.pool is not None:
            self.pool.shutdown()


def _keys(connection: Connection, found: Callable[[AuditFinding], None]) -> dict[str, Any]:
    keys: dict[str, VerifyingKey] = {}
    for key_id, pem in connection.execute(_KEYS):
        try:
            key = VerifyingKey.from_public_pem(pem)
        except KeyFormatError as error:
            found(AuditFinding("signing_keys", f"key {key_id[:16]}... is unusable: {error}"))
            continue
        if key.key_id != key_id:
            found(AuditFinding("signing_keys", f"key {key_id[:16]}... is not the hash of its key"))
            continue
        keys[key_id] = key
    return keys


def _workers(checkpoints: int, workers: int | None) -> int:
    if workers is not None:
        return max(1, workers)
    if checkpoints < _PARALLEL_CHECKPOINTS:
        return 1
    return min(os.cpu_count() or 1, _MAX_WORKERS)


def audit_log(
    engine: Engine,
    on_finding: Callable[[AuditFinding], None],
    *,
    plugins: Callable[[Connection], Sequence[AuditPlugin]] = key_transition_checks,
    workers: int | None = None,
) -> AuditReport:
    """Recompute every stored row of the log; `on_finding` gets each mismatch as it is found.

    One read transaction (a snapshot on PostgreSQL), so a service appending meanwhile does not
    make rows look wrong. `workers` processes verify checkpoint signatures (default: one per
    CPU for large logs).
    """
    sqlite = is_sqlite(engine)
    options: dict[str, Any] = {} if sqlite else {"isolation_level": "REPEATABLE READ"}
    with engine.connect() as connection:
        if sqlite:  # read once: no mapped file and a small page cache (each page is read once)
            driver: Any = connection.connection.driver_connection
            driver.execute("PRAGMA mmap_size=0")
            driver.execute("PRAGMA cache_size=-8192")
        with connection.execution_options(**options).begin():
            return _audit(connection, on_finding, plugins(connection), workers)


def _audit(
    connection: Connection,
    on_finding: Callable[[AuditFinding], None],
    plugins: Sequence[AuditPlugin],
    workers: int | None,
) -> AuditReport:
    leaf_max, checkpoint_max, record_max, record_count, node_count = connection.execute(
        _SIZES
    ).one()
    size = max(
        0 if leaf_max is None else int(leaf_max) + 1,
        0 if record_max is None else int(record_max) + 1,
        0 if checkpoint_max is None else int(checkpoint_max),
    )
    audit = _Audit(connection, on_finding, plugins, {})
    audit.keys = _keys(connection, audit.found)
    audit.report.size = size
    signatures = _Signatures(audit.keys, _workers(int(checkpoint_max or 0), workers))
    failed: list[tuple[int, str]] = []
    for low in range(0, size, _BATCH):
        high = min(low + _BATCH, size)
        stored = audit.nodes(low, high)
        audit.leaves(low, high, stored)
        rows = audit.rows(_CHECKPOINTS, {"low": low, "high": high})
        audit.checkpoints(rows, stored)
        signed: list[_Signed] = [(int(r[0]), r[1], r[2], r[3], r[4]) for r in rows]
        failed.extend(signatures.submit(signed))
    failed.extend(signatures.drain())
    audit.flush_run()
    if size and int(checkpoint_max or 0) < size:
        message = f"the log holds {size} leaves, its newest checkpoint is of size {checkpoint_max}"
        audit.found(AuditFinding("checkpoints", message))
    for checkpoint_size, message in failed:
        audit.checkpoint_failed(checkpoint_size, message)
    audit.flush_run()
    if audit.linked_records != int(record_count):
        for record_id, log_index in connection.execute(_UNLINKED_RECORDS):
            message = "no leaf at its log index names this record"
            audit.found(AuditFinding("records", message, record_id, int(log_index)))
    _extra_nodes(connection, audit, size, int(node_count))
    for plugin in plugins:
        for finding in plugin.finish():
            audit.found(finding)
    return audit.report


def _extra_nodes(connection: Connection, audit: _Audit, size: int, stored: int) -> None:
    """Names stored nodes beyond the log's size (only looked for when the count says so)."""
    expected = sum(size >> level for level in range(size.bit_length()))
    if stored == expected - audit.missing_nodes:
        return
    levels = max(size.bit_length(), 1)
    terms = " OR ".join(
        f"(level = {level} AND node_index >= {size >> level})" for level in range(levels)
    )
    beyond = text(
        f"SELECT level, node_index FROM tree_nodes WHERE {terms} OR level >= {levels}"  # noqa: S608 - ints
        " OR level < 0 ORDER BY level, node_index"
    )
    for level, index in connection.execute(beyond):
        audit.found(AuditFinding("tree_nodes", "the node lies beyond the log", node=(level, index)))
