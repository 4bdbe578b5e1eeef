"""Evidence service benchmarks; prints figures and ratios against the named peer and limits.

1. Ingest over HTTP: `gatekeeper serve` (1 process on SQLite; 2 on PostgreSQL) against a bare
   FastAPI endpoint inserting the same bytes with no signing or log (target >= 0.5x); also with
   a CI ID token, and with a token and statements the service re-evaluates (carried policy
   document), with the re-evaluation's own cost per statement.
2. Query latency p50/p95 of a filtered page of 50 with N records loaded directly (target
   p95 < 20 ms at N = 1,000,000).
3. Time per append at N records against at 1,000 (target <= 1.5x): O(log n) appends.

    python benchmarks/service.py [--records 1000000] [--requests 600] [--postgres URL]

PostgreSQL parts run when --postgres (or GATEKEEPER_TEST_POSTGRES_URL) names a server.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._recompute_load import RecomputedStatements, recheck_cost_ms
from benchmarks._service_load import (
    bulk_load,
    ingest_rate,
    run_bare,
    run_service,
    time_appends,
)
from tests.fakes.oidc import FakeOidcIssuer
from tests.service.live import PostgresDatabases, start_service


def _ingest(
    requests: int, database_url: str | None, bare_url: str | None, workers: int, label: str
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        bare_url = bare_url or f"sqlite:///{root / 'bare.db'}"
        with run_service(root / "svc", database_url, workers) as (url, token):
            service = ingest_rate(url, token, requests)
        with run_bare(bare_url, workers) as url:
            bare = ingest_rate(url, "none", requests)
    ratio = service / bare
    print(
        f"ingest {label}: service {service:8.1f} req/s | bare insert {bare:8.1f} req/s | "
        f"ratio {ratio:.2f}x (target >= 0.50x) {_verdict(ratio >= 0.5)}"
    )


def _ingest_oidc(requests: int) -> None:
    """Ingest with a CI ID token (RS256, keys from a loopback issuer, cached) against the bare
    insert; the issuer's JWKS fetch count shows the keys are not read per request."""
    with tempfile.TemporaryDirectory() as scratch, FakeOidcIssuer() as issuer:
        assert isinstance(issuer, FakeOidcIssuer)
        root = Path(scratch)
        config = [
            {"issuer": issuer.issuer, "audience": "gatekeeper", "project_claim": "repository"}
        ]
        extra = {"GATEKEEPER_OIDC_ISSUERS": json.dumps(config)}
        with start_service(root / "svc", extra_env=extra) as service:
            service_rate = ingest_rate(service.url, issuer.mint(lifetime=3600), requests)
        with run_bare(f"sqlite:///{root / 'bare.db'}", 1) as url:
            bare = ingest_rate(url, "none", requests)
        fetches = issuer.jwks_fetches
    ratio = service_rate / bare
    print(
        f"ingest SQLite, OIDC token: service {service_rate:8.1f} req/s | bare insert {bare:8.1f}"
        f" req/s | ratio {ratio:.2f}x (target >= 0.50x) {_verdict(ratio >= 0.5)} |"
        f" JWKS fetches {fetches} for {requests + 40} requests"
    )


def _ingest_recompute(requests: int) -> None:
    """Ingest of statements the service re-evaluates (carried policy, 4 rules and a waiver),
    with a CI ID token, against the bare insert; and the re-evaluation's own cost."""
    statements = RecomputedStatements()
    with tempfile.TemporaryDirectory() as scratch, FakeOidcIssuer() as issuer:
        assert isinstance(issuer, FakeOidcIssuer)
        root = Path(scratch)
        config = [
            {"issuer": issuer.issuer, "audience": "gatekeeper", "project_claim": "repository"}
        ]
        extra = {"GATEKEEPER_OIDC_ISSUERS": json.dumps(config)}
        with start_service(root / "svc", extra_env=extra) as service:
            token = issuer.mint(lifetime=3600)
            service_rate = ingest_rate(service.url, token, requests, statements.make)
        with run_bare(f"sqlite:///{root / 'bare.db'}", 1) as url:
            bare = ingest_rate(url, "none", requests, statements.make)
    ratio = service_rate / bare
    cost = recheck_cost_ms(statements)
    print(
        f"ingest SQLite, OIDC token + re-evaluation: service {service_rate:8.1f} req/s | bare "
        f"insert {bare:8.1f} req/s | ratio {ratio:.2f}x (target >= 0.50x) "
        f"{_verdict(ratio >= 0.5)} | re-evaluation {cost:.3f} ms per statement"
    )


def _verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def _query_and_append(
    records: int, database_url: str | None, small_url: str | None, label: str
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        started = time.perf_counter()
        small = bulk_load(root / "small", 1_000, small_url)
        big = bulk_load(root / "big", records, database_url)
        print(f"{label}: loaded {records:,} records in {time.perf_counter() - started:.0f} s")
        sys.stdout.flush()
        at_small = time_appends(small, 100)
        at_big = time_appends(big, 100)
        ratio = at_big / at_small
        print(
            f"append {label}: {at_small * 1000:.2f} ms at 1,000 | {at_big * 1000:.2f} ms at "
            f"{records:,} | ratio {ratio:.2f}x (target <= 1.50x) {_verdict(ratio <= 1.5)}"
        )
        with run_service(big.data_dir, database_url, 1, create_token=True) as (url, token):
            latencies = _query_latencies(url, token, 300)
        p50 = statistics.median(latencies) * 1000
        p95 = statistics.quantiles(latencies, n=20)[-1] * 1000
        print(
            f"query {label}: filtered page of 50 at {records:,} records: p50 {p50:.1f} ms, "
            f"p95 {p95:.1f} ms ({p95 / 20:.2f}x of the 20 ms limit) {_verdict(p95 < 20)}"
        )
        sys.stdout.flush()


def _query_latencies(url: str, token: str, count: int) -> list[float]:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    latencies = []
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        for number in range(count):
            params = {"project": f"org/p{random.randrange(100)}", "limit": "50"}
            params["verdict"] = "fail" if number % 2 else "pass"
            if number % 3 == 0:
                params["cursor"] = str(random.randrange(1_000_000))
            started = time.perf_counter()
            response = client.get("/v1/evidence", params=params)
            latencies.append(time.perf_counter() - started)
            response.raise_for_status()
    return latencies[10:]


def main() -> int:
    """Runs every benchmark and prints its ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--postgres", default=os.environ.get("GATEKEEPER_TEST_POSTGRES_URL"))
    parser.add_argument("--skip-load", action="store_true", help="Only the ingest benchmark.")
    parser.add_argument("--skip-ingest", action="store_true", help="Only the loaded benchmarks.")
    parser.add_argument("--skip-sqlite", action="store_true", help="Loaded benchmarks: PG only.")
    args = parser.parse_args()
    print("evidence service benchmarks (numbers are noisy on a shared machine)")
    if not args.skip_ingest:
        _ingest(args.requests, None, None, 1, "SQLite, 1 process")
        _ingest_oidc(args.requests)
        _ingest_recompute(args.requests)
    databases = None
    if args.postgres:
        databases = PostgresDatabases(args.postgres)
        databases.create_template()
    try:
        if databases is not None and not args.skip_ingest:
            service_url, bare_url = databases.fresh(), databases.fresh(migrated=False)
            _ingest(args.requests, service_url, bare_url, 2, "PostgreSQL, 2 processes")
        if not args.skip_load and not args.skip_sqlite:
            _query_and_append(args.records, None, None, "SQLite")
        if not args.skip_load and databases is not None:
            big, small = databases.fresh(), databases.fresh()
            _query_and_append(args.records, big, small, "PostgreSQL")
    finally:
        if databases is not None:
            databases.drop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
