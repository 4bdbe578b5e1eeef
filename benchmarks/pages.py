"""Auditor pages benchmark: the records page (HTML) over N records, against its peer and limit.

The records page (`GET /ui/records`, newest first, 50 a page, with the total) of a signed-in
browser, over HTTP from `gatekeeper serve` with N records loaded directly (target p95 < 150 ms at
N = 100,000), beside the API's filtered page of the same records (`GET /v1/evidence`, the peer)
and the workspace queries the page runs, in process with no HTTP or HTML (the raw limit).

    python benchmarks/pages.py [--records 100000] [--requests 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import text

from benchmarks._service_load import bulk_load, run_service
from gatekeeper.config import Settings
from gatekeeper.service.app import engine_for
from gatekeeper.service.pages import COOKIE
from gatekeeper.service.workspace.facets import facets_from_envelope
from gatekeeper.service.workspace.filters import RecordFilter
from gatekeeper.service.workspace.listing import list_records

_TARGET_MS = 150.0
_PROJECTS = 100  # bulk_load spreads the records over org/p0 .. org/p99


def _fill_facets(settings: Settings) -> None:
    """The facets of the loaded records, as ingest would write them (one statement reused;
    every 10th record a release so `kind` varies)."""
    with engine_for(settings) as engine, engine.begin() as connection:
        envelope = connection.execute(text("SELECT envelope FROM records LIMIT 1")).scalar_one()
        facets = facets_from_envelope(bytes(envelope)).columns()
        fixed = {k: v for k, v in facets.items() if k != "kind"}
        names = ", ".join(f'"{name}"' for name in fixed)
        marks = ", ".join(f":{name}" for name in fixed)
        connection.execute(
            text(
                "INSERT INTO record_facets (record_id, project, log_index, integrated_at, "
                f'verdict, ref, "commit", kind, {names}) '
                'SELECT id, project, log_index, integrated_at, verdict, ref, "commit", '
                f"CASE WHEN log_index % 10 = 0 THEN 'release' ELSE 'pr' END, {marks} "
                "FROM records"
            ),
            fixed,
        )


def _queries(number: int) -> dict[str, str]:
    """The filters of request `number`: every project, one project, or failed gates of one."""
    if number % 3 == 0:
        return {}
    project = {"project": f"org/p{random.randrange(_PROJECTS)}"}
    return project | ({"verdict": "fail"} if number % 3 == 2 else {})


def _latencies(call: Callable[[int], object], count: int) -> list[float]:
    out = []
    for number in range(count):
        started = time.perf_counter()
        call(number)
        out.append(time.perf_counter() - started)
    return out[10:]


def _summary(label: str, latencies: list[float]) -> float:
    p50 = statistics.median(latencies) * 1000
    p95 = statistics.quantiles(latencies, n=20)[-1] * 1000
    print(f"  {label:<44} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
    return p95


def _raw(settings: Settings, count: int) -> list[float]:
    with engine_for(settings) as engine, engine.connect() as connection:

        def query(number: int) -> None:
            wanted = _queries(number)
            where = RecordFilter(
                projects=(wanted["project"],) if "project" in wanted else None,
                verdict="fail" if "verdict" in wanted else None,
            )
            list_records(connection, where, limit=50)

        return _latencies(query, count)


def main() -> int:
    """Loads the records, times the three paths, prints the figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    print("auditor pages benchmark (numbers are noisy on a shared machine)")
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        loaded = bulk_load(Path(scratch) / "pages", args.records, None)
        _fill_facets(loaded.settings)
        print(f"SQLite: loaded {args.records:,} records in {time.perf_counter() - started:.0f} s")
        with (
            run_service(loaded.data_dir, None, 1) as (url, token),
            httpx.Client(base_url=url, timeout=60) as client,
        ):
            login = client.post("/ui/login", data={"token": token})
            assert login.status_code == 303, login.text[:300]
            cookie = {"Cookie": f"{COOKIE}={login.cookies[COOKIE]}"}
            bearer = {"Authorization": f"Bearer {token}"}

            def page(number: int) -> None:
                response = client.get("/ui/records", params=_queries(number), headers=cookie)
                assert response.status_code == 200, response.text[:300]

            def api(number: int) -> None:
                params = _queries(number) | {"limit": "50"}
                response = client.get("/v1/evidence", params=params, headers=bearer)
                assert response.status_code == 200, response.text[:300]

            pages = _latencies(page, args.requests)
            apis = _latencies(api, args.requests)
        page_p95 = _summary("records page /ui/records (HTML, with total)", pages)
        api_p95 = _summary("peer: API /v1/evidence (JSON, no total)", apis)
        raw_p95 = _summary(
            "limit: list_records in process (no HTTP)", _raw(loaded.settings, args.requests)
        )
    verdict = "OK" if page_p95 < _TARGET_MS else "OVER"
    print(
        f"records page at {args.records:,} records: p95 {page_p95:.1f} ms "
        f"({page_p95 / _TARGET_MS:.2f}x of the {_TARGET_MS:.0f} ms target) {verdict}; "
        f"{page_p95 / api_p95:.2f}x the API page, {page_p95 / raw_p95:.2f}x the bare queries"
    )
    return 0 if page_p95 < _TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
