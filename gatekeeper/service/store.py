"""The append-only evidence store: sign, append to the Merkle log, checkpoint, query.

One append is one transaction: it takes the log lock (`pg_advisory_xact_lock` on PostgreSQL; on
SQLite the writer connection's `BEGIN IMMEDIATE` already holds the database lock), reads the log
size as max(leaf index) + 1 (never a sequence: a rolled-back append leaves no gap), writes the
record, its leaf, the O(log n) complete-subtree hashes the leaf completes, and a checkpoint signed
over the new root. The same statement for the same project again returns the stored record.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, TextClause, func, select, text
from sqlalchemy.engine import Connection

from gatekeeper.attest.canonical import canonical_json
from gatekeeper.attest.dsse import sign_envelope
from gatekeeper.attest.keys import SigningKey, VerifyingKey
from gatekeeper.errors import ServiceError
from gatekeeper.ledger import merkle_hash, merkle_tree
from gatekeeper.ledger.checkpoint import sign_checkpoint
from gatekeeper.service._clock import utc_now
from gatekeeper.service.database import driver_sql, is_sqlite
from gatekeeper.service.records import (
    CheckpointOut,
    InclusionProofOut,
    ReceiptOut,
    StoredRecord,
    checkpoint_from_row,
    envelope_dict,
    record_from_row,
)
from gatekeeper.service.tables import CheckpointRow, LogLeafRow, RecordRow
from gatekeeper.service.tree_nodes import NodeReader, cursor_fetch
from gatekeeper.service.workspace.facets import FACET_COLUMNS, Facets, facets_from_statement

LOG_LOCK = 0x67746C67  # "gtlg": the advisory lock every append takes on PostgreSQL

# The append path runs fixed SQL built once (no expression building or cache-key work per call).
_LOCK = text(f"SELECT pg_advisory_xact_lock({LOG_LOCK})")
_FIND_AND_SIZE = text(
    "SELECT (SELECT max(leaf_index) FROM log_leaves) AS highest, r.id, r.project, r.log_index,"
    " r.leaf_hash, r.integrated_at, r.envelope, r.inclusion_proof"
    " FROM (SELECT 1 AS one) AS anchor LEFT JOIN records AS r"
    " ON r.project = :project AND r.statement_sha256 = :digest"
)
_INSERT_RECORD = text(
    "INSERT INTO records (id, project, log_index, leaf_hash, integrated_at, statement_sha256,"
    ' envelope, key_id, repo, "commit", ref, verdict, inclusion_proof)'
    " VALUES (:id, :project, :log_index, :leaf_hash,"
    " :integrated_at, :statement_sha256, :envelope, :key_id, :repo, :commit, :ref, :verdict,"
    " :inclusion_proof)"
)
_FACET_NAMES = ", ".join(FACET_COLUMNS)  # constants of the Facets dataclass
_FACET_VALUES = ", ".join(f":{name}" for name in FACET_COLUMNS)
_INSERT_FACETS = text(
    "INSERT INTO record_facets (record_id, project, log_index, integrated_at, verdict, ref,"  # noqa: S608
    f' "commit", {_FACET_NAMES}) VALUES (:id, :project, :log_index, :integrated_at,'
    f" :verdict, :ref, :commit, {_FACET_VALUES})"
)
_INSERT_LEAF = text(
    "INSERT INTO log_leaves (leaf_index, leaf_hash, record_id) VALUES (:index, :hash, :record)"
)
_INSERT_NODE = text("INSERT INTO tree_nodes (level, node_index, hash) VALUES (:lv, :ix, :hash)")
_CURRENT_KEY = text("SELECT key_id FROM signing_keys WHERE retired_at IS NULL")
_RETIRE_KEYS = text("UPDATE signing_keys SET retired_at = :now WHERE retired_at IS NULL")
_INSERT_KEY = text(
    "INSERT INTO signing_keys (key_id, algorithm, public_key_pem, created_at, retired_at)"
    " VALUES (:key_id, 'ed25519', :pem, :now, NULL)"
)
KEYS_PROJECT = "@log/signing-keys"
"""The project key transitions are stored under: no project name can be it (see projects.py)."""
_INSERT_CHECKPOINT = text(
    "INSERT INTO checkpoints (size, root_hash, key_id, note, signature, created_at)"
    " VALUES (:size, :root_hash, :key_id, :note, :signature, :created_at)"
)


@dataclass(frozen=True)
class StatementMeta:
    """What queries filter on, read from the statement at ingest."""

    repo: str | None = None
    commit: str | None = None
    ref: str | None = None
    verdict: str | None = None


@dataclass(frozen=True)
class AppendResult:
    """The stored record, whether this call created it, and (when it did) its receipt."""

    record: StoredRecord
    created: bool
    receipt: ReceiptOut | None = None


@dataclass
class _Pending:
    """An append waiting for the log: what to write, then its result or error."""

    project: str
    digest: str
    leaf: bytes
    key: SigningKey
    meta: StatementMeta
    facets: Facets
    payload: bytes = b""
    new_key: VerifyingKey | None = None
    """Set for a key transition: the key that becomes current in the same transaction."""
    result: AppendResult | None = None
    error: BaseException | None = None


@contextmanager
def _writer_cursor(engine: Engine) -> Iterator[Any]:
    """A driver cursor in a write transaction holding the log lock; commits when the block ends
    without an error, rolls back otherwise (SQLite: `BEGIN IMMEDIATE` takes the database lock;
    PostgreSQL: the transaction-scoped advisory lock)."""
    raw = engine.raw_connection()
    sqlite = is_sqlite(engine)
    try:
        cursor = raw.cursor()
        cursor.execute("BEGIN IMMEDIATE" if sqlite else _LOCK.text)
        try:
            yield cursor
        except BaseException:
            raw.rollback()  # sqlite3 issues ROLLBACK for the BEGIN above too
            raise
        if sqlite:
            cursor.execute("COMMIT")
        else:
            raw.commit()
        cursor.close()
    finally:
        raw.close()  # back to the pool


class EvidenceStore:
    """Appends signed records to the log and answers queries about it."""

    def __init__(self, engine: Engine, key: SigningKey | Callable[[], SigningKey], origin: str):
        self.engine = engine
        self._key = key
        self.origin = origin
        # one appender per process at a time: threads queue here instead of in SQLite's busy
        # handler, which sleeps in growing steps (the database lock still orders processes)
        self._append_lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._last_key: SigningKey | None = None

    def signing_key(self) -> SigningKey:
        """The key new envelopes and checkpoints are signed with."""
        key = self._key if isinstance(self._key, SigningKey) else self._key()
        self._last_key = key
        return key

    def _likely_key(self) -> SigningKey:
        """The key an append signs with before it holds the log lock: the last current key seen
        (no query per request); `_sign_with_current` signs again under the lock if a rotation
        made another key current since."""
        return self._last_key or self.signing_key()

    def append(
        self, project: str, payload: bytes, meta: StatementMeta, *, digest: str | None = None
    ) -> AppendResult:
        """Stores the statement `payload` (canonical bytes) for `project`, once.

        Group commit: appends waiting for the log are written by whichever thread holds it, in
        one transaction (one fsync); each still gets its own leaf, checkpoint and receipt, and
        returns only once that transaction has committed. `digest` (default: the payload's
        SHA-256) is what "the same statement" is found by, when the service added to it.
        """
        key = self._likely_key()
        envelope = envelope_dict(sign_envelope(payload, key))
        item = _Pending(
            project,
            digest or hashlib.sha256(payload).hexdigest(),
            canonical_json(envelope),
            key,
            meta,
            facets_from_statement(json.loads(payload)),
            payload,
        )
        return self._enqueue(item)

    def append_transition(
        self, payload: bytes, envelope: dict[str, Any], new: VerifyingKey
    ) -> AppendResult:
        """Appends the key transition `envelope` (signed by this store's key, the current one,
        and by `new`) and makes `new` the current key in the same transaction; ServiceError when
        another key became current first (no instance retires a newer key)."""
        key = self.signing_key()
        item = _Pending(
            KEYS_PROJECT,
            hashlib.sha256(payload).hexdigest(),
            canonical_json(envelope),
            key,
            StatementMeta(),
            Facets(),
            payload,
            new_key=new,
        )
        return self._enqueue(item)

    def _enqueue(self, item: _Pending) -> AppendResult:
        with self._queue_lock:
            self._queue.append(item)
        with self._append_lock:
            if item.result is None and item.error is None:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._append_batch(batch)
        if item.error is not None:
            raise item.error
        assert item.result is not None
        return item.result

    def _append_batch(self, batch: list[_Pending]) -> None:
        try:
            self._commit(batch)
        except Exception as error:
            if len(batch) == 1:
                batch[0].error = error
                return
            for item in batch:  # one bad append must not fail its neighbours: one by one
                try:
                    self._commit([item])
                except Exception as alone:
                    item.error = alone

    def _commit(self, batch: list[_Pending]) -> None:
        # the driver's own connection and cursor: no statement compiling, result wrapping or
        # event hooks for the fixed SQL of the append (it runs once per stored record)
        results = []
        with _writer_cursor(self.engine) as cursor:
            reader = NodeReader(cursor_fetch(cursor, self.engine))
            self._sign_with_current(cursor, batch)
            for item in batch:
                params = {"project": item.project, "digest": item.digest}
                cursor.execute(self._sql(_FIND_AND_SIZE), params)
                found: Any = cursor.fetchone()  # one row: the LEFT JOIN keeps the anchor
                highest, *stored = found
                if stored[0] is not None:
                    record_id, project, log_index, leaf_hex, at, envelope, proof = stored
                    existing = StoredRecord(
                        record_id,
                        project,
                        int(log_index),
                        leaf_hex,
                        at,
                        bytes(envelope),
                        proof,
                        bool(item.facets.waived),
                        tuple(item.facets.waived_rules.split()),
                    )
                    results.append(AppendResult(existing, created=False))
                    continue
                index = 0 if highest is None else int(highest) + 1
                row, receipt = self._write(cursor, reader, item, index)
                if item.new_key is not None:
                    self._make_current(cursor, item.new_key, row["integrated_at"])
                marks = {"waived": item.facets.waived, "waived_rules": item.facets.waived_rules}
                results.append(
                    AppendResult(record_from_row(row | marks), created=True, receipt=receipt)
                )
        for item, result in zip(batch, results, strict=True):
            item.result = result

    def _sign_with_current(self, cursor: Any, batch: list[_Pending]) -> None:
        """Under the log lock: an envelope signed with a key that is no longer current (a
        rotation committed since it was signed) is signed again with the current key, so no
        record after a transition is signed by the key it retired."""
        cursor.execute(self._sql(_CURRENT_KEY))
        found = cursor.fetchone()
        current = None if found is None else found[0]
        for item in batch:
            if item.key.key_id == current:
                continue
            if item.new_key is not None:
                raise ServiceError(
                    f"key {item.key.key_id[:16]}... is no longer current (another rotation "
                    f"made {str(current)[:16]}... current first); nothing was changed"
                )
            if isinstance(self._key, SigningKey):
                continue  # a store pinned to one key (tests, tools) signs with it
            item.key = self.signing_key()
            if item.key.key_id != current:
                raise ServiceError("the current signing key changed during the append; retry")
            item.leaf = canonical_json(envelope_dict(sign_envelope(item.payload, item.key)))

    def _make_current(self, cursor: Any, key: VerifyingKey, now: str) -> None:
        cursor.execute(self._sql(_RETIRE_KEYS), {"now": now})
        cursor.execute(
            self._sql(_INSERT_KEY), {"key_id": key.key_id, "pem": key.public_pem(), "now": now}
        )

    def _sql(self, statement: TextClause) -> str:
        """The statement's SQL in the driver's parameter style."""
        return driver_sql(self.engine, statement)

    def _write(
        self, cursor: Any, reader: NodeReader, item: _Pending, index: int
    ) -> tuple[dict[str, Any], ReceiptOut]:
        project, digest, leaf, key, meta = (
            item.project,
            item.digest,
            item.leaf,
            item.key,
            item.meta,
        )
        leaf_hash = merkle_hash.leaf_hash(leaf)
        # the left siblings the new leaf completes, and its audit path, are the perfect
        # subtrees of the first `index` leaves: one node per set bit of index
        reader.prefetch(merkle_tree.required_nodes_for_root(index))
        nodes = merkle_tree.nodes_for_append(index, leaf_hash, reader.get)
        for level, node_index, node_hash in nodes:
            reader.add(level, node_index, node_hash)
        root = merkle_tree.root_hash(index + 1, reader.get)
        checkpoint = sign_checkpoint(self.origin, index + 1, root, key)
        proof = [h.hex() for h in merkle_tree.inclusion_proof(index, index + 1, reader.get)]
        row = {
            "id": str(uuid.uuid4()),
            "project": project,
            "log_index": index,
            "leaf_hash": leaf_hash.hex(),
            "integrated_at": utc_now(),
            "statement_sha256": digest,
            "envelope": leaf,
            "key_id": key.key_id,
            "repo": meta.repo,
            "commit": meta.commit,
            "ref": meta.ref,
            "verdict": meta.verdict,
            "inclusion_proof": " ".join(proof),
        }
        cursor.execute(self._sql(_INSERT_RECORD), row)
        cursor.execute(self._sql(_INSERT_FACETS), row | item.facets.columns())
        leaf_row = {"index": index, "hash": leaf_hash, "record": row["id"]}
        cursor.execute(self._sql(_INSERT_LEAF), leaf_row)
        cursor.executemany(
            self._sql(_INSERT_NODE),
            [{"lv": lv, "ix": ix, "hash": digest_} for lv, ix, digest_ in nodes],
        )
        cursor.execute(
            self._sql(_INSERT_CHECKPOINT),
            {
                "size": checkpoint.size,
                "root_hash": checkpoint.root_hash,
                "key_id": checkpoint.key_id,
                "note": checkpoint.note,
                "signature": checkpoint.signature,
                "created_at": row["integrated_at"],
            },
        )
        receipt = ReceiptOut(
            checkpoint=CheckpointOut(**checkpoint.model_dump()),
            inclusion_proof=InclusionProofOut(index=index, size=index + 1, hashes=proof),
        )
        return row, receipt

    def log_size(self) -> int:
        """How many leaves the log holds."""
        with self.engine.connect() as connection:
            return _log_size(connection)

    def latest_checkpoint(self, connection: Connection | None = None) -> CheckpointOut | None:
        """The newest signed checkpoint, or None for an empty log."""
        if connection is None:
            with self.engine.connect() as own:
                return self.latest_checkpoint(own)
        row = connection.execute(
            select(CheckpointRow.__table__).order_by(CheckpointRow.size.desc()).limit(1)
        ).first()
        return None if row is None else checkpoint_from_row(row._mapping)

    def checkpoint_at(self, connection: Connection, size: int) -> CheckpointOut | None:
        """The signed checkpoint of the log at `size`, if the log reached it."""
        row = connection.execute(
            select(CheckpointRow.__table__).where(CheckpointRow.size == size)
        ).first()
        return None if row is None else checkpoint_from_row(row._mapping)

    def get(self, record_id: str) -> StoredRecord | None:
        """One record by id."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(RecordRow.__table__).where(RecordRow.id == record_id)
            ).first()
        return None if row is None else record_from_row(row._mapping)

    def inclusion_proof(self, index: int, size: int, connection: Connection) -> list[bytes]:
        """The RFC 9162 audit path of leaf `index` in the tree of `size` leaves."""
        reader = NodeReader(connection)
        reader.prefetch(merkle_tree.required_nodes_for_inclusion(index, size))
        return list(merkle_tree.inclusion_proof(index, size, reader.get))

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        """The RFC 9162 proof that the tree of `old` leaves is a prefix of the one of `new`."""
        with self.engine.connect() as connection:
            reader = NodeReader(connection)
            reader.prefetch(merkle_tree.required_nodes_for_consistency(old, new))
            return list(merkle_tree.consistency_proof(old, new, reader.get))


def _log_size(connection: Connection) -> int:
    highest = connection.execute(select(func.max(LogLeafRow.leaf_index))).scalar()
    return 0 if highest is None else int(highest) + 1


def hex_hashes(hashes: Sequence[bytes]) -> list[str]:
    """Hashes as lowercase hex, as the API shows them."""
    return [digest.hex() for digest in hashes]
