"""Helpers of benchmarks/service.py: processes to measure, load generation, direct bulk loading."""

from __future__ import annotations

import base64
import hashlib
import itertools
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from gatekeeper.attest.canonical import canonical_json
from gatekeeper.attest.dsse import sign_envelope
from gatekeeper.attest.keys import SigningKey
from gatekeeper.config import Settings
from gatekeeper.ledger import merkle_hash
from gatekeeper.service.app import open_context
from gatekeeper.service.database import is_sqlite
from gatekeeper.service.store import StatementMeta
from tests.service.live import free_port, start_service, statement, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
CLIENT_THREADS = 8
_BATCH = 20_000


@contextmanager
def run_service(
    data_dir: Path, database_url: str | None, workers: int, *, create_token: bool = True
) -> Iterator[tuple[str, str]]:
    """`gatekeeper serve` with `workers` processes; yields (url, admin token)."""
    del create_token
    with start_service(data_dir, database_url, workers=workers) as service:
        yield service.url, service.admin_token


@contextmanager
def run_bare(database_url: str, workers: int) -> Iterator[str]:
    """The bare insert endpoint under uvicorn with `workers` processes; yields its URL."""
    port = free_port()
    log_path = Path(f"/tmp/bare-{port}.log")
    command = [sys.executable, "-m", "uvicorn", "--factory", "benchmarks._bare_app:create_bare_app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    command += ["--log-level", "warning"]
    env = {"BARE_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, log_path)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def ingest_rate(
    url: str, token: str, requests: int, make: Callable[[int], Any] | None = None
) -> float:
    """Requests per second for `requests` distinct statements (`make(n)`, default the small
    test statement) from 8 client threads."""
    headers = {"Authorization": f"Bearer {token}"}
    run = uuid.uuid4().int % 10**9
    make = make or statement
    bodies = [
        canonical_json({"project": "acme/widget", "statement": make(run * 10**6 + n)})
        for n in range(requests + 40)
    ]
    with httpx.Client(base_url=url, headers=headers, timeout=60) as warm:
        for body in bodies[requests:]:
            warm.post("/v1/evidence", content=body).raise_for_status()

    def _send(part: list[bytes]) -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
            for body in part:
                client.post("/v1/evidence", content=body).raise_for_status()

    parts = [bodies[n:requests:CLIENT_THREADS] for n in range(CLIENT_THREADS)]
    threads = [threading.Thread(target=_send, args=(part,)) for part in parts]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return requests / (time.perf_counter() - started)


@dataclass(frozen=True)
class Loaded:
    """A store loaded directly with records."""

    data_dir: Path
    settings: Settings


def _level_hashes(leaf: bytes, levels: int) -> list[bytes]:
    hashes = [leaf]
    for _ in range(levels):
        hashes.append(merkle_hash.node_hash(hashes[-1], hashes[-1]))
    return hashes


def bulk_load(data_dir: Path, count: int, database_url: str | None) -> Loaded:
    """`count` records written directly in one transaction (one signed envelope reused; the
    tree is exact): rows built in memory in one pass, executemany on SQLite (no fsync during
    the load only), COPY on PostgreSQL."""
    settings = Settings(data_dir=data_dir, database_url=database_url)
    context = open_context(settings)
    key = context.store.signing_key()
    envelope = canonical_json(sign_envelope(canonical_json(statement(0)), key).to_json_dict())
    leaf = merkle_hash.leaf_hash(envelope)
    levels = _level_hashes(leaf, count.bit_length())
    tables = {
        "records": (_RECORD_COLUMNS, _records(count, envelope, leaf, key.key_id, levels)),
        "log_leaves": (("leaf_index", "leaf_hash", "record_id"), _leaves(count, leaf)),
        "tree_nodes": (("level", "node_index", "hash"), _nodes(count, levels)),
        "checkpoints": (_CHECKPOINT_COLUMNS, _checkpoints(settings.log_origin, count, levels, key)),
    }
    raw = context.engine.raw_connection()
    try:
        if is_sqlite(context.engine):
            _load_sqlite(raw, tables)
        else:
            _load_postgres(raw, tables)
    finally:
        raw.close()
    context.engine.dispose()
    return Loaded(data_dir, settings)


_RECORD_COLUMNS = (
    "id",
    "project",
    "log_index",
    "leaf_hash",
    "integrated_at",
    "statement_sha256",
    "envelope",
    "key_id",
    "repo",
    "commit",
    "ref",
    "verdict",
    "inclusion_proof",
)
_CHECKPOINT_COLUMNS = ("size", "root_hash", "key_id", "note", "signature", "created_at")
_Rows = Iterator[tuple[object, ...]]


def _load_sqlite(raw: Any, tables: dict[str, tuple[tuple[str, ...], _Rows]]) -> None:
    cursor = raw.cursor()
    cursor.execute("PRAGMA synchronous=OFF")  # the load only; the service keeps FULL
    cursor.execute("BEGIN IMMEDIATE")
    for table, (columns, rows) in tables.items():
        names = ", ".join(f'"{name}"' for name in columns)
        marks = ", ".join("?" * len(columns))
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
        while batch := list(itertools.islice(rows, _BATCH)):
            cursor.executemany(sql, batch)
    cursor.execute("COMMIT")
    cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the load's WAL is not the append's cost
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _load_postgres(raw: Any, tables: dict[str, tuple[tuple[str, ...], _Rows]]) -> None:
    cursor = raw.cursor()
    cursor.execute("SET synchronous_commit = off")
    for table, (columns, rows) in tables.items():
        names = ", ".join(f'"{name}"' for name in columns)
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    raw.commit()
    cursor.execute(f"ANALYZE {', '.join(tables)}")
    raw.commit()
    cursor.close()


def _records(count: int, envelope: bytes, leaf: bytes, key_id: str, levels: list[bytes]) -> _Rows:
    leaf_hex = leaf.hex()
    for index in range(count):
        project = f"org/p{index % 100}"
        yield (
            str(uuid.UUID(int=index + 1)),
            project,
            index,
            leaf_hex,
            f"2026-01-01T00:00:00.{index % 1000000:06d}Z",
            hashlib.sha256(str(index).encode()).hexdigest(),
            envelope,
            key_id,
            project,
            hashlib.sha1(str(index).encode(), usedforsecurity=False).hexdigest(),
            "refs/heads/main",
            "fail" if index % 7 == 0 else "pass",
            _proof(index, levels),
        )


def _leaves(count: int, leaf: bytes) -> _Rows:
    for index in range(count):
        yield (index, leaf, str(uuid.UUID(int=index + 1)))


def _nodes(count: int, levels: list[bytes]) -> _Rows:
    for level in range(count.bit_length()):
        digest = levels[level]
        for index in range(count >> level):
            yield (level, index, digest)


def _checkpoints(origin: str, count: int, levels: list[bytes], key: SigningKey) -> _Rows:
    """Every checkpoint 1..count; each root folds the perfect subtrees of the size's set bits."""
    for size in range(1, count + 1):
        root = b""
        for bit in range(size.bit_length()):
            if (size >> bit) & 1:
                root = levels[bit] if not root else merkle_hash.node_hash(levels[bit], root)
        note = f"{origin}\n{size}\n{base64.b64encode(root).decode('ascii')}\n"
        signature = base64.b64encode(key.sign(note.encode())).decode("ascii")
        yield (size, root.hex(), key.key_id, note, signature, "2026-01-01T00:00:00.000000Z")


def _proof(index: int, levels: list[bytes]) -> str:
    """The proof of leaf `index` in the tree of index + 1 equal leaves, leaf side first."""
    return " ".join(levels[b].hex() for b in range(index.bit_length()) if (index >> b) & 1)


def time_appends(loaded: Loaded, count: int, warmup: int = 300) -> float:
    """Mean seconds per append (through the store, signing included) on a loaded store, after
    `warmup` appends: the first ones after a bulk load fault the index pages of a cold file
    in (about 9 ms each at 1,000,000 records, then the same as at 1,000)."""
    context = open_context(loaded.settings)
    run = uuid.uuid4().int % 10**9
    payloads = [canonical_json(statement(run * 10**6 + n)) for n in range(count + warmup)]
    for payload in payloads[count:]:
        context.store.append("acme/widget", payload, StatementMeta())
    started = time.perf_counter()
    for payload in payloads[:count]:
        context.store.append("acme/widget", payload, StatementMeta())
    elapsed = time.perf_counter() - started
    context.engine.dispose()
    return elapsed / count
