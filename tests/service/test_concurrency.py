"""Eight writer processes append at once (SQLite WAL, PostgreSQL): the log stays whole."""

from __future__ import annotations

import multiprocessing
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import text

from gatekeeper.attest.canonical import canonical_json
from gatekeeper.attest.keys import VerifyingKey
from gatekeeper.ledger import merkle_hash, merkle_tree
from gatekeeper.ledger.checkpoint import Checkpoint, verify_checkpoint
from gatekeeper.service.database import make_engine
from gatekeeper.service.keyring import load_signing_key
from gatekeeper.service.store import EvidenceStore, StatementMeta
from tests.service.live import statement

WRITERS = 8
PER_WRITER = 10


def _writer(url: str, data_dir: str, number: int, barrier: Barrier) -> None:
    """One writer process: appends its own statements and one every writer shares."""
    engine = make_engine(url)
    store = EvidenceStore(engine, load_signing_key(engine, Path(data_dir)), "test.local/log")
    barrier.wait(timeout=120)
    for item in range(PER_WRITER):
        payload = canonical_json(statement(1000 * (number + 1) + item))
        store.append("acme/widget", payload, StatementMeta())
        if item == PER_WRITER // 2:
            store.append("acme/widget", canonical_json(statement(0)), StatementMeta())
    engine.dispose()


@pytest.mark.slow
def test_eight_writer_processes_get_contiguous_unique_indices(app: FastAPI) -> None:
    """Concurrent appends from 8 processes give indices 0..n-1, one leaf per content, and
    every checkpoint's root equals a recomputation of the tree."""
    context = app.state.gatekeeper
    url = context.engine.url.render_as_string(hide_password=False)
    fork = multiprocessing.get_context("fork")
    barrier = fork.Barrier(WRITERS)
    data_dir = str(context.settings.data_dir)
    workers = [
        fork.Process(target=_writer, args=(url, data_dir, n, barrier)) for n in range(WRITERS)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=240)
    assert [worker.exitcode for worker in workers] == [0] * WRITERS
    expected = WRITERS * PER_WRITER + 1
    with context.engine.connect() as connection:
        leaves = connection.execute(
            text("SELECT leaf_index, leaf_hash FROM log_leaves ORDER BY leaf_index")
        ).all()
        envelopes = connection.execute(
            text("SELECT log_index, envelope FROM records ORDER BY log_index")
        ).all()
        checkpoints = connection.execute(
            text("SELECT size, root_hash, key_id, note, signature FROM checkpoints ORDER BY size")
        ).all()
        pem = connection.execute(text("SELECT public_key_pem FROM signing_keys")).scalar_one()
    assert [index for index, _ in leaves] == list(range(expected))
    assert [index for index, _ in envelopes] == list(range(expected))
    memory = merkle_tree.MemoryTree()
    for (_index, leaf), (_same, envelope) in zip(leaves, envelopes, strict=True):
        assert merkle_hash.leaf_hash(bytes(envelope)) == bytes(leaf)
        memory.append_hash(bytes(leaf))
    assert [row.size for row in checkpoints] == list(range(1, expected + 1))
    key = VerifyingKey.from_public_pem(pem)
    for row in checkpoints:
        checkpoint = Checkpoint(**row._mapping)
        verify_checkpoint(checkpoint, key)
        assert checkpoint.root_hash == memory.root(checkpoint.size).hex()
