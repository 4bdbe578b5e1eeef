"""Benchmark: `gatekeeper verify` on a bundle of 100,000 records, against the raw limit.

The limit is a bare loop over the same data doing only what cannot be skipped: one Ed25519
verify of the DSSE pre-authentication encoding, one leaf hash, and the inclusion proof's hashes,
per record, in one process; the verify command may use every core, so the limit is also shown
divided by the core count. Target: under 15 s for 100,000 records. Run it on a quiet machine:
the wall time moves with every other process; the CPU times and their ratio move much less.

    python benchmarks/verify.py [--records 100000] [--bundle PATH]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from gatekeeper.attest import SigningKey, canonical_json, pae
from gatekeeper.ledger.testing import write_sample_bundle

TARGET_S = 15.0


def _build(path: Path, count: int) -> float:
    start = time.perf_counter()
    write_sample_bundle(path, count, SigningKey.from_seed(b"\x07" * 32))
    return time.perf_counter() - start


MEMORY_LIMIT_MB = 200


def _run_verify(path: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (the command and its worker processes) and the peak RSS in MB
    of the largest of those processes (the children's ru_maxrss)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "gatekeeper", "verify", str(path), "--trust-bundle-keys"],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(f"verify failed ({result.returncode}): {result.stdout[-500:]}{result.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu, after.ru_maxrss / 1024


def _raw_limit(path: Path) -> float:
    """Ed25519 verify + leaf hash + proof hashes per record, nothing else, one process."""
    with zipfile.ZipFile(path) as archive:
        records = [json.loads(line) for line in archive.read("records.jsonl").splitlines()]
        proofs = [json.loads(line) for line in archive.read("proofs.jsonl").splitlines()]
    key = SigningKey.from_seed(b"\x07" * 32).public
    prepared = []
    for record, proof in zip(records, proofs, strict=True):
        envelope = record["envelope"]
        message = pae(envelope["payloadType"], base64.b64decode(envelope["payload"]))
        signature = base64.b64decode(envelope["signatures"][0]["sig"])
        hashes = [bytes.fromhex(h) for h in proof["hashes"]]
        prepared.append((message, signature, canonical_json(envelope), hashes))
    sha256 = hashlib.sha256
    start = time.process_time()
    for message, signature, leaf_bytes, hashes in prepared:
        key.verify(signature, message)
        node = sha256(b"\x00" + leaf_bytes).digest()
        for sibling in hashes:
            node = sha256(b"\x01" + sibling + node).digest()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--bundle", type=Path, help="reuse or keep the bundle at this path")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = args.bundle or Path(scratch) / "bundle.zip"
        if path.exists():
            print(f"reusing {path}")
        else:
            built = _build(path, args.records)
            print(
                f"built {args.records} records (real signatures) in {built:.1f} s "
                f"({args.records / built:,.0f} records/s), {path.stat().st_size / 1e6:.1f} MB"
            )
        elapsed, cpu, peak_mb = _run_verify(path)
        limit = _raw_limit(path)
    cores = os.cpu_count() or 1
    count = args.records
    met = "met" if elapsed * 100_000 / count < TARGET_S else "MISSED"
    print(
        f"gatekeeper verify: {elapsed:.2f} s, {count / elapsed:,.0f} records/s "
        f"(target < {TARGET_S:.0f} s per 100,000: {met})"
    )
    print(f"  CPU time of verify and its workers: {cpu:.2f} s ({cpu / count * 1e6:.0f} us/record)")
    fits = "met" if peak_mb < MEMORY_LIMIT_MB else "MISSED"
    print(
        f"  peak RSS of the largest verify process: {peak_mb:.0f} MB "
        f"(limit {MEMORY_LIMIT_MB} MB: {fits}; ratio {peak_mb / MEMORY_LIMIT_MB:.2f})"
    )
    print(
        f"raw limit (Ed25519 + hashes, CPU time, 1 process): {limit:.2f} s, "
        f"{count / limit:,.0f} records/s ({limit / count * 1e6:.0f} us/record)"
    )
    print(
        f"ratios: CPU verify / CPU limit {cpu / limit:.2f}x; wall verify / (limit / {cores} cores) "
        f"{elapsed / (limit / cores):.2f}x"
    )


if __name__ == "__main__":
    main()
