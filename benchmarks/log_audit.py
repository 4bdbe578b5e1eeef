"""Benchmark: `gatekeeper log audit` on a SQLite log of 1,000,000 records, against the raw limit.

The log is written directly (not through the HTTP service, which would take hours here) with the
service's own code for every value: a distinct statement per record in a DSSE envelope signed
with Ed25519, RFC 6962 leaf and node hashes from `ledger.merkle_hash`, the inclusion proof kept at
integration, and one signed checkpoint per append, as the store writes them. Facet rows (what
the auditor pages filter on) are left out: the audit does not read them.

The raw limit is a bare loop reading the same envelopes from the same table and SHA-256-hashing
each: what any audit of the leaves cannot skip. The audit does more (every tree node, every
checkpoint root and one Ed25519 verification per checkpoint, through libsodium in one worker
process per core), so the ratio says what that costs.
Target: under 120 s for 1,000,000 records.

    python -m benchmarks.log_audit [--records 1000000] [--database PATH]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from gatekeeper.attest.canonical import canonical_json
from gatekeeper.attest.dsse import sign_envelope
from gatekeeper.attest.keys import SigningKey, VerifyingKey
from gatekeeper.config import Settings
from gatekeeper.ledger import merkle_hash, merkle_tree
from gatekeeper.service.app import open_context
from gatekeeper.service.records import envelope_dict
from tests.service.live import statement

TARGET_S = 120.0
_BATCH = 20_000
_RECORDS = (
    "INSERT INTO records (id, project, log_index, leaf_hash, integrated_at, statement_sha256,"
    ' envelope, key_id, repo, "commit", ref, verdict, inclusion_proof)'
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_LEAVES = "INSERT INTO log_leaves (leaf_index, leaf_hash, record_id) VALUES (?, ?, ?)"
_NODES = "INSERT INTO tree_nodes (level, node_index, hash) VALUES (?, ?, ?)"
_CHECKPOINTS = (
    "INSERT INTO checkpoints (size, root_hash, key_id, note, signature, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


class _Log:
    """The rows the store would write, batch by batch, with the tree's right edge in memory."""

    def __init__(self, key: SigningKey, origin: str) -> None:
        self.key = key
        self.origin = origin
        self.frontier: dict[int, bytes] = {}
        self.size = 0

    def batch(self, count: int) -> tuple[list[tuple[object, ...]], ...]:
        records, leaves, nodes, checkpoints = [], [], [], []
        for _ in range(count):
            index = self.size
            payload = canonical_json(statement(index, project=f"org/p{index % 100}"))
            envelope = canonical_json(envelope_dict(sign_envelope(payload, self.key)))
            leaf = merkle_hash.leaf_hash(envelope)
            proof = " ".join(
                self.frontier[b].hex() for b in range(index.bit_length()) if index >> b & 1
            )
            new = merkle_tree.nodes_for_append(index, leaf, lambda level, _i: self.frontier[level])
            for level, _node, digest in new:
                self.frontier[level] = digest
            nodes.extend(new)
            self.size += 1
            record_id = str(uuid.uuid4())
            at = f"2026-01-01T{index // 3_600_000 % 24:02d}:00:00.{index % 1_000_000:06d}Z"
            project = f"org/p{index % 100}"
            records.append(
                (
                    *(
                        record_id,
                        project,
                        index,
                        leaf.hex(),
                        at,
                        hashlib.sha256(payload).hexdigest(),
                    ),
                    *(envelope, self.key.key_id, project, f"{index:040x}", "refs/heads/main"),
                    *("pass", proof),
                )
            )
            leaves.append((index, leaf, record_id))
            checkpoints.append(self.checkpoint(at))
        return records, leaves, nodes, checkpoints

    def checkpoint(self, at: str) -> tuple[object, ...]:
        size, root = self.size, b""
        for bit in range(size.bit_length()):
            if size >> bit & 1:
                node = self.frontier[bit]
                root = merkle_hash.node_hash(node, root) if root else node
        note = f"{self.origin}\n{size}\n{base64.b64encode(root).decode('ascii')}\n"
        signature = base64.b64encode(self.key.sign(note.encode())).decode("ascii")
        return (size, root.hex(), self.key.key_id, note, signature, at)


def build(data_dir: Path, count: int) -> Path:
    """A migrated SQLite store under `data_dir` holding `count` records; its file."""
    settings = Settings(data_dir=data_dir)
    context = open_context(settings)
    log = _Log(context.store.signing_key(), settings.log_origin)
    context.engine.dispose()
    path = data_dir / "gatekeeper.db"
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA synchronous=OFF")  # the load only
    connection.execute("BEGIN IMMEDIATE")
    while log.size < count:
        records, leaves, nodes, checkpoints = log.batch(min(_BATCH, count - log.size))
        connection.executemany(_RECORDS, records)
        connection.executemany(_LEAVES, leaves)
        connection.executemany(_NODES, nodes)
        connection.executemany(_CHECKPOINTS, checkpoints)
    connection.execute("COMMIT")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return path


def _envelopes(path: Path) -> Iterator[bytes]:
    connection = sqlite3.connect(path)
    try:
        cursor = connection.execute("SELECT envelope FROM records ORDER BY log_index")
        while rows := cursor.fetchmany(4096):
            for (envelope,) in rows:
                yield envelope
    finally:
        connection.close()


def raw_limit(path: Path) -> tuple[float, int]:
    """Seconds to read every envelope from the records table and SHA-256 it as a leaf."""
    sha256 = hashlib.sha256
    start = time.perf_counter()
    count = 0
    for envelope in _envelopes(path):
        sha256(b"\x00" + envelope).digest()
        count += 1
    return time.perf_counter() - start, count


_SAMPLE = 100_000


def signature_floor(path: Path, count: int) -> tuple[float, float]:
    """CPU seconds one process needs for the Ed25519 verification of `count` stored checkpoints
    (measured on the first 100,000, scaled), with libsodium (what the audit uses) and with
    OpenSSL (`verify`, for comparison): the part of the audit no ordering of work avoids."""
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute(
            "SELECT c.note, c.signature, k.public_key_pem FROM checkpoints AS c"
            " JOIN signing_keys AS k ON k.key_id = c.key_id ORDER BY c.size LIMIT ?",
            (_SAMPLE,),
        ).fetchall()
    finally:
        connection.close()
    keys = {pem: VerifyingKey.from_public_pem(pem) for _note, _sig, pem in rows}
    signed = [(keys[pem], base64.b64decode(sig), note.encode()) for note, sig, pem in rows]
    scale = count / max(1, len(signed))
    start = time.process_time()
    for key, signature, note in signed:
        key.verify_fast(signature, note)
    sodium = (time.process_time() - start) * scale
    start = time.process_time()
    for key, signature, note in signed:
        key.verify(signature, note)
    return sodium, (time.process_time() - start) * scale


def run_audit(path: Path) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds (with workers), peak RSS in MB and the summary line."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "gatekeeper", "log", "audit", "--database", f"sqlite:///{path}"],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(f"log audit failed ({result.returncode}): {result.stdout[-800:]}{result.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu, after.ru_maxrss / 1024, result.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--database", type=Path, help="reuse or keep the SQLite file here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = args.database
        if path is None or not path.exists():
            data_dir = path.parent if path is not None else Path(scratch)
            started = time.perf_counter()
            built = build(data_dir, args.records)
            if path is not None and built != path:
                built.rename(path)
            path = path or built
            took = time.perf_counter() - started
            print(
                f"built {args.records:,} records in {took:.0f} s "
                f"({path.stat().st_size / 1e9:.2f} GB)"
            )
        else:
            print(f"reusing {path}")
        elapsed, cpu, peak, summary = run_audit(path)
        limit, count = raw_limit(path)
        floor, openssl = signature_floor(path, count)
    met = "met" if elapsed * 1_000_000 / count < TARGET_S else "MISSED"
    print(f"gatekeeper log audit: {elapsed:.1f} s for {count:,} records ({summary})")
    print(f"  target < {TARGET_S:.0f} s per 1,000,000 records: {met}")
    print(f"  CPU time of the audit and its workers: {cpu:.1f} s; peak RSS {peak:.0f} MB")
    print(f"raw limit (read every envelope, SHA-256 it; 1 process): {limit:.1f} s")
    print(f"ratio: audit / raw limit {elapsed / limit:.1f}x")
    print(
        f"Ed25519 floor (verify every checkpoint with libsodium, CPU, 1 process, from {_SAMPLE:,}):"
        f" {floor:.1f} s (OpenSSL: {openssl:.1f} s); audit CPU / (raw limit + floor)"
        f" {cpu / (limit + floor):.2f}x"
    )


if __name__ == "__main__":
    main()
