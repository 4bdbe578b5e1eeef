"""The store on SQLite and PostgreSQL: appends, idempotency, the tree, append-only triggers."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy.exc
from fastapi import FastAPI
from sqlalchemy import text

from gatekeeper.attest.canonical import canonical_json
from gatekeeper.ledger import merkle_hash, merkle_tree, merkle_verify
from gatekeeper.service.database import WRITER, is_sqlite
from gatekeeper.service.store import AppendResult, EvidenceStore, StatementMeta
from tests.service.live import statement


def _store(app: FastAPI) -> EvidenceStore:
    store: EvidenceStore = app.state.gatekeeper.store
    return store


def _append(store: EvidenceStore, n: int) -> int:
    return store.append(
        "acme/widget", canonical_json(statement(n)), StatementMeta()
    ).record.log_index


def test_indices_are_contiguous_and_root_matches_memory_tree(app: FastAPI) -> None:
    """Appends get indices 0..n-1 and the signed root equals an in-memory recomputation."""
    store = _store(app)
    indices = [_append(store, n) for n in range(13)]
    assert indices == list(range(13))
    memory = merkle_tree.MemoryTree()
    with store.engine.connect() as connection:
        for (leaf,) in connection.execute(text("SELECT envelope FROM records ORDER BY log_index")):
            memory.append(bytes(leaf))
        nodes = connection.execute(text("SELECT count(*) FROM tree_nodes")).scalar_one()
    checkpoint = store.latest_checkpoint()
    assert checkpoint is not None
    assert checkpoint.size == 13
    assert checkpoint.root_hash == memory.root().hex()
    assert nodes == 2 * 13 - bin(13).count("1")  # only complete subtrees are stored


def test_same_statement_twice_gives_same_record(app: FastAPI) -> None:
    """Storing the same statement again returns the first record and adds no leaf."""
    store = _store(app)
    payload = canonical_json(statement(1))
    first = store.append("acme/widget", payload, StatementMeta())
    second = store.append("acme/widget", payload, StatementMeta())
    assert first.created
    assert not second.created
    assert second.record == first.record
    assert store.log_size() == 1


def test_concurrent_appends_commit_together_each_with_its_own_receipt(app: FastAPI) -> None:
    """Threads appending at once (group commit) get contiguous indices, the duplicate statement
    its first record, and every receipt proves its leaf under its own signed checkpoint."""
    store = _store(app)
    payloads = [canonical_json(statement(n)) for n in range(12)] + [canonical_json(statement(3))]
    start = threading.Barrier(len(payloads))

    def _one(payload: bytes) -> AppendResult:
        start.wait()
        return store.append("acme/widget", payload, StatementMeta())

    with ThreadPoolExecutor(len(payloads)) as pool:
        results = list(pool.map(_one, payloads))
    created = [r for r in results if r.created]
    assert sorted(r.record.log_index for r in created) == list(range(12))
    assert len({r.record.id for r in results}) == 12
    for result in created:
        receipt = result.receipt
        assert receipt is not None
        assert receipt.checkpoint.size == result.record.log_index + 1
        merkle_verify.verify_inclusion(
            merkle_hash.leaf_hash(result.record.envelope),
            result.record.log_index,
            receipt.checkpoint.size,
            [bytes.fromhex(h) for h in receipt.inclusion_proof.hashes],
            bytes.fromhex(receipt.checkpoint.root_hash),
        )
    assert store.log_size() == 12


def _run(store: EvidenceStore, statements: str, row: dict[str, object]) -> None:
    with store.engine.connect() as connection, connection.execution_options(**WRITER).begin():
        for part in statements.split("; "):
            connection.execute(text(part), row if "VALUES" in part else {})


_TABLES = ("records", "log_leaves", "tree_nodes", "checkpoints")


@pytest.mark.parametrize("table", _TABLES)
@pytest.mark.parametrize("statement_sql", ["UPDATE {t} SET {c} = {c}", "DELETE FROM {t}"])
def test_database_refuses_update_and_delete(app: FastAPI, table: str, statement_sql: str) -> None:
    """The database itself refuses UPDATE and DELETE on every append-only table."""
    store = _store(app)
    _append(store, 0)
    column = {"records": "project", "log_leaves": "leaf_hash", "tree_nodes": "hash"}.get(
        table, "note"
    )
    with (
        pytest.raises(sqlalchemy.exc.DatabaseError, match="append-only"),
        store.engine.connect() as connection,
        connection.execution_options(**WRITER).begin(),
    ):
        connection.execute(text(statement_sql.format(t=table, c=column)))
    assert store.log_size() == 1


@pytest.mark.parametrize("table", _TABLES)
def test_database_refuses_truncate_and_replica_bypass(app: FastAPI, table: str) -> None:
    """PostgreSQL refuses TRUNCATE and DELETE as a replica; SQLite refuses INSERT OR REPLACE."""
    store = _store(app)
    _append(store, 0)
    with store.engine.connect() as connection:
        rows = connection.execute(text(f"SELECT * FROM {table}")).mappings().all()
    attempts: list[str]
    if is_sqlite(store.engine):
        columns = ", ".join(f'"{name}"' for name in rows[0])
        values = ", ".join(f":{name}" for name in rows[0])
        attempts = [f"INSERT OR REPLACE INTO {table} ({columns}) VALUES ({values})"]
    else:
        attempts = [
            f"TRUNCATE {table} CASCADE",
            f"SET LOCAL session_replication_role = replica; DELETE FROM {table}",
        ]
    for attempt in attempts:
        with pytest.raises(sqlalchemy.exc.DatabaseError, match="append-only"):
            _run(store, attempt, dict(rows[0]))
    with store.engine.connect() as connection:
        after = connection.execute(text(f"SELECT * FROM {table}")).mappings().all()
    assert after == rows


_FAIL_AT_SIZE_3 = {
    "sqlite": [
        "CREATE TRIGGER inject_fault BEFORE INSERT ON checkpoints WHEN NEW.size = 3"
        " BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION inject_fault() RETURNS trigger AS $$ BEGIN IF NEW.size = 3 THEN"
        " RAISE EXCEPTION 'injected fault'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER inject_fault BEFORE INSERT ON checkpoints FOR EACH ROW"
        " EXECUTE FUNCTION inject_fault()",
    ],
}


def test_append_failing_at_its_last_write_leaves_nothing_behind(app: FastAPI) -> None:
    """An append whose checkpoint insert fails (the last write of its transaction) is rolled
    back whole: no record, leaf or node of it remains, the lock is released, and the next
    append takes the same index with a root that matches the whole log."""
    store = _store(app)
    _append(store, 0)
    _append(store, 1)
    dialect = store.engine.dialect.name
    with store.engine.connect() as connection, connection.begin():
        for sql in _FAIL_AT_SIZE_3[dialect]:
            connection.exec_driver_sql(sql)
    with pytest.raises(Exception, match="injected fault"):
        _append(store, 2)
    with store.engine.connect() as connection:
        counts = [
            connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("records", "log_leaves", "tree_nodes", "checkpoints")
        ]
    assert counts == [2, 2, 3, 2]
    with store.engine.connect() as connection, connection.begin():
        connection.exec_driver_sql(
            "DROP TRIGGER inject_fault" + ("" if dialect == "sqlite" else " ON checkpoints")
        )
    assert _append(store, 3) == 2
    memory = merkle_tree.MemoryTree()
    with store.engine.connect() as connection:
        for (leaf,) in connection.execute(text("SELECT envelope FROM records ORDER BY log_index")):
            memory.append(bytes(leaf))
    checkpoint = store.latest_checkpoint()
    assert checkpoint is not None
    assert (checkpoint.size, checkpoint.root_hash) == (3, memory.root().hex())
