"""Token buckets kept in the database (`limit_buckets`), so a limit holds across every process
and host of one service: `serve --workers N` or several instances on one PostgreSQL.

One statement per event, atomic on both databases: an upsert that refills the bucket from the
time it was last counted, spends one event only when one is left, and returns what is left
(no row returned: the bucket was empty). Counters are not evidence: their commits skip the
wait for a disk flush on PostgreSQL (`synchronous_commit off`); a crash may forget the last
few events of a minute, never refuse more than the limit allows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine, text

from gatekeeper.service.database import WRITER, is_sqlite

__all__ = ["SharedRateLimiter"]

_KEY_MAX = 200  # the column's width
_SWEEP_EVERY = 1000
"""Events of one process between two deletions of full buckets (they hold no state)."""
OPEN_FOR_S = 1.0
"""How long a key found with events left is taken as open without reading it again: the check
before every request then costs a read per address a second, not one per request; events
spent by another process reach this one at most that late."""
_OPEN_KEYS_MAX = 10_000

_LEVEL = (
    "CASE WHEN {t}.tokens + (CASE WHEN :now > {t}.updated_at THEN :now - {t}.updated_at"
    " ELSE 0 END) * :rate >= :full THEN :full"
    " ELSE {t}.tokens + (CASE WHEN :now > {t}.updated_at THEN :now - {t}.updated_at"
    " ELSE 0 END) * :rate END"
)
"""The bucket's events now: refilled at `rate` per second since it was counted, at most full."""
_TAKE = text(
    "INSERT INTO limit_buckets (bucket, key, tokens, updated_at)"  # noqa: S608 - constants only
    " VALUES (:bucket, :key, :full - 1, :now)"
    " ON CONFLICT (bucket, key) DO UPDATE SET"
    f" tokens = {_LEVEL.format(t='limit_buckets')} - 1,"
    " updated_at = CASE WHEN :now > limit_buckets.updated_at THEN :now"
    " ELSE limit_buckets.updated_at END"
    f" WHERE {_LEVEL.format(t='limit_buckets')} >= 1"
    " RETURNING tokens"
)
_READ = text(
    f"SELECT {_LEVEL.format(t='b')} FROM limit_buckets AS b WHERE b.bucket = :bucket"  # noqa: S608 - a constant
    " AND b.key = :key"
)
_SWEEP = text("DELETE FROM limit_buckets WHERE bucket = :bucket AND updated_at < :idle")
_NO_FLUSH = text("SET LOCAL synchronous_commit TO OFF")


class SharedRateLimiter:
    """`limit` events at once per key, refilled at `limit` per `window` seconds, counted in the
    database under `bucket`; the same `take`/`wait` as the in-process `RateLimiter`."""

    def __init__(
        self,
        engine: Engine,
        bucket: str,
        limit: int,
        window: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.bucket = bucket
        self.limit = limit
        self.window = window
        self.rate = limit / window
        self._clock = clock  # wall time: every host must count on the same clock
        self._sqlite = is_sqlite(engine)
        self._events = 0
        self._lock = threading.Lock()
        self._open: dict[str, float] = {}  # key -> when (monotonic) it was read with events left

    def _params(self, key: str, now: float) -> dict[str, object]:
        return {
            "bucket": self.bucket,
            "key": key[:_KEY_MAX],
            "full": float(self.limit),
            "rate": self.rate,
            "now": now,
        }

    def take(self, key: str) -> float | None:
        """Spends one event of `key`: None when allowed, else seconds until one is free."""
        self._open.pop(key, None)
        now = self._clock()
        params = self._params(key, now)
        with (
            self.engine.connect().execution_options(**WRITER) as connection,
            connection.begin(),
        ):
            if not self._sqlite:
                connection.execute(_NO_FLUSH)
            left = connection.execute(_TAKE, params).first()
            if left is None:
                level = connection.execute(_READ, params).scalar_one()
                return (1 - float(level)) / self.rate
            if self._due():
                connection.execute(_SWEEP, {"bucket": self.bucket, "idle": now - self.window})
        return None

    def wait(self, key: str) -> float | None:
        """None when `key` has an event left (none is spent), else seconds until it has."""
        read_at = self._open.get(key)
        if read_at is not None and time.monotonic() - read_at < OPEN_FOR_S:
            return None
        read_at = time.monotonic()
        with self.engine.connect() as connection:
            level = connection.execute(_READ, self._params(key, self._clock())).scalar()
        if level is None or float(level) >= 1:
            with self._lock:
                if len(self._open) >= _OPEN_KEYS_MAX:
                    self._open.clear()
                self._open[key] = read_at
            return None
        return (1 - float(level)) / self.rate

    def _due(self) -> bool:
        with self._lock:
            self._events += 1
            return self._events % _SWEEP_EVERY == 0
