"""Helpers of benchmarks/service.py: processes to measure, load generation, direct bulk loading."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import insert

from gatekeeper.attest.canonical import canonical_json
from gatekeeper.attest.dsse import sign_envelope
from gatekeeper.config import Settings
from gatekeeper.ledger import merkle
from gatekeeper.ledger.checkpoint import sign_checkpoint
from gatekeeper.service.app import open_context
from gatekeeper.service.database import WRITER
from gatekeeper.service.store import StatementMeta
from gatekeeper.service.tables import CheckpointRow, LogLeafRow, RecordRow, TreeNodeRow
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


def ingest_rate(url: str, token: str, requests: int) -> float:
    """Requests per second for `requests` distinct statements from 8 client threads."""
    headers = {"Authorization": f"Bearer {token}"}
    run = uuid.uuid4().int % 10**9
    bodies = [
        canonical_json({"project": "acme/widget", "statement": statement(run * 10**6 + n)})
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
        hashes.append(merkle.node_hash(hashes[-1], hashes[-1]))
    return hashes


def bulk_load(data_dir: Path, count: int, database_url: str | None) -> Loaded:
    """`count` records written directly (one signed envelope reused; the tree is exact)."""
    settings = Settings(data_dir=data_dir, database_url=database_url)
    context = open_context(settings)
    key = context.store.signing_key()
    envelope = canonical_json(sign_envelope(canonical_json(statement(0)), key).to_json_dict())
    leaf = merkle.leaf_hash(envelope)
    levels = _level_hashes(leaf, count.bit_length())
    with context.engine.connect() as connection:
        for start in range(0, count, _BATCH):
            _insert_batch(
                connection,
                start,
                min(count, start + _BATCH),
                envelope=envelope,
                leaf=leaf,
                key_id=key.key_id,
                levels=levels,
            )
        with connection.execution_options(**WRITER).begin():
            for level in range(1, count.bit_length()):
                rows = [
                    {"level": level, "node_index": index, "hash": levels[level]}
                    for index in range(count >> level)
                ]
                for start in range(0, len(rows), _BATCH):
                    connection.execute(insert(TreeNodeRow), rows[start : start + _BATCH])
        for start in range(1, count + 1, _BATCH):
            with connection.execution_options(**WRITER).begin():
                connection.execute(
                    insert(CheckpointRow),
                    [
                        _checkpoint(settings.log_origin, size, levels, key)
                        for size in range(start, min(count + 1, start + _BATCH))
                    ],
                )
    context.engine.dispose()
    return Loaded(data_dir, settings)


def _checkpoint(origin: str, size: int, levels: list[bytes], key: object) -> dict[str, object]:
    root = merkle.root_hash(size, lambda level, _index: levels[level])
    checkpoint = sign_checkpoint(origin, size, root, key)  # type: ignore[arg-type]
    return {**checkpoint.model_dump(), "created_at": "2026-01-01T00:00:00.000000Z"}


def _proof(index: int, levels: list[bytes]) -> str:
    """The proof of leaf `index` in the tree of index + 1 equal leaves, leaf side first."""
    return " ".join(levels[b].hex() for b in range(index.bit_length()) if (index >> b) & 1)


def _insert_batch(
    connection: object,
    start: int,
    end: int,
    *,
    envelope: bytes,
    leaf: bytes,
    key_id: str,
    levels: list[bytes],
) -> None:
    records, leaves, nodes = [], [], []
    for index in range(start, end):
        record_id = str(uuid.UUID(int=index + 1))
        records.append(
            {
                "id": record_id,
                "project": f"org/p{index % 100}",
                "log_index": index,
                "leaf_hash": leaf.hex(),
                "integrated_at": f"2026-01-01T00:00:00.{index % 1000000:06d}Z",
                "statement_sha256": hashlib.sha256(str(index).encode()).hexdigest(),
                "envelope": envelope,
                "key_id": key_id,
                "repo": f"org/p{index % 100}",
                "commit": hashlib.sha1(str(index).encode(), usedforsecurity=False).hexdigest(),
                "ref": "refs/heads/main",
                "verdict": "fail" if index % 7 == 0 else "pass",
                "inclusion_proof": _proof(index, levels),
            }
        )
        leaves.append({"leaf_index": index, "leaf_hash": leaf, "record_id": record_id})
        nodes.append({"level": 0, "node_index": index, "hash": leaf})
    with connection.execution_options(**WRITER).begin():  # type: ignore[attr-defined]
        connection.execute(insert(RecordRow), records)  # type: ignore[attr-defined]
        connection.execute(insert(LogLeafRow), leaves)  # type: ignore[attr-defined]
        connection.execute(insert(TreeNodeRow), nodes)  # type: ignore[attr-defined]


def time_appends(loaded: Loaded, count: int) -> float:
    """Mean seconds per append (through the store, signing included) on a loaded store."""
    context = open_context(loaded.settings)
    run = uuid.uuid4().int % 10**9
    payloads = [canonical_json(statement(run * 10**6 + n)) for n in range(count + 10)]
    for payload in payloads[count:]:
        context.store.append("acme/widget", payload, StatementMeta())
    started = time.perf_counter()
    for payload in payloads[:count]:
        context.store.append("acme/widget", payload, StatementMeta())
    elapsed = time.perf_counter() - started
    context.engine.dispose()
    return elapsed / count
