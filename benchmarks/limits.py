"""Benchmark: the per-request cost of the request limits kept in the database (`limit_buckets`)
against the in-process bucket, on SQLite and, when GATEKEEPER_TEST_POSTGRES_URL is set,
PostgreSQL. A request with a token pays one `wait` (refused tokens of its address, on by
default) and, with GATEKEEPER_RATE_LIMIT_PER_TOKEN, one `take`.

    python -m benchmarks.limits [--events 2000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from gatekeeper.config import Settings
from gatekeeper.service.app import open_context
from gatekeeper.service.database import make_engine, upgrade
from gatekeeper.service.limit_buckets import SharedRateLimiter
from gatekeeper.service.limits import RateLimiter


def _per_call(call: Callable[[str], object], events: int) -> float:
    start = time.perf_counter()
    for n in range(events):
        call(f"key{n % 50}")
    return (time.perf_counter() - start) / events * 1e6


def _measure(name: str, settings: Settings, events: int) -> None:
    if settings.database_url:
        engine = make_engine(settings.database_url)
        upgrade(engine)
        engine.dispose()
    context = open_context(settings)
    try:
        shared = SharedRateLimiter(context.engine, "bench", 10**9, 60.0)
        take, wait = _per_call(shared.take, events), _per_call(shared.wait, events)
        print(f"{name}: take {take:.0f} us, wait {wait:.0f} us per request")
    finally:
        context.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()
    memory = RateLimiter(10**9, 60.0)
    take, wait = _per_call(memory.take, args.events), _per_call(memory.wait, args.events)
    print(f"in-process: take {take:.1f} us, wait {wait:.1f} us per request")
    with tempfile.TemporaryDirectory() as scratch:
        _measure("SQLite", Settings(data_dir=Path(scratch)), args.events)
    url = os.environ.get("GATEKEEPER_TEST_POSTGRES_URL")
    if url:
        with tempfile.TemporaryDirectory() as scratch, _scratch_database(url) as database:
            _measure(
                "PostgreSQL", Settings(data_dir=Path(scratch), database_url=database), args.events
            )


@contextmanager
def _scratch_database(url: str) -> Iterator[str]:
    """A fresh PostgreSQL database beside `url`'s, dropped afterwards."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = "gk_bench_limits"
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


if __name__ == "__main__":
    main()
