"""Request limits: a rate per token, failed sign-ins per client address, records per project.

Refused witness cosignatures (`POST /v1/log/witness`) count as failed sign-ins of their address.

Each answers 429 with `Retry-After` through `ApiError`. The service's rate counters live in the
database (`limit_buckets.SharedRateLimiter`), so they hold across `serve --workers N` and hosts;
`RateLimiter` is the same bucket in one process. The quota re-counts from the database when a
project nears it, so it holds across workers too.

The pages' sign-in form uses the same failure limit as bearer tokens:
`context.limits.refuse_blocked(address)` before checking the token it was given, and
`context.limits.failed(address)` when that token is refused (`client_address(request,
settings.trusted_proxies)` names the client behind a trusted proxy).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Engine, text

from gatekeeper.service.limit_buckets import SharedRateLimiter
from gatekeeper.service.problems import ApiError

if TYPE_CHECKING:
    from starlette.requests import Request

    from gatekeeper.config import Settings

__all__ = ["Bucket", "Limits", "ProjectQuota", "RateLimiter", "client_address"]

_MAX_KEYS = 100_000
"""Keys one limiter remembers; past it, full buckets are forgotten (they hold no state)."""
_QUOTA_RECOUNT_S = 10.0
_QUOTA_RETRY_S = 3600
_COUNT = text("SELECT count(*) FROM records WHERE project = :project")
_STORED = text("SELECT 1 FROM records WHERE project = :project AND statement_sha256 = :digest")


class Bucket(Protocol):
    """A rate limit per key: `RateLimiter` (one process) or `SharedRateLimiter` (the database)."""

    limit: int

    def take(self, key: str) -> float | None:
        """Spends one event of `key`: None when allowed, else seconds until one is free."""

    def wait(self, key: str) -> float | None:
        """None when `key` has an event left (none is spent), else seconds until it has."""


class RateLimiter:
    """A token bucket per key: `limit` events at once, refilled at `limit` per `window` s."""

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.rate = limit / window
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def _level(self, key: str, now: float) -> float:
        tokens, updated = self._buckets.get(key, (float(self.limit), now))
        return min(float(self.limit), tokens + (now - updated) * self.rate)

    def take(self, key: str) -> float | None:
        """Spends one event of `key`: None when allowed, else seconds until one is free."""
        with self._lock:
            now = self._clock()
            tokens = self._level(key, now)
            if tokens < 1:
                return (1 - tokens) / self.rate
            self._buckets[key] = (tokens - 1, now)
            if len(self._buckets) > _MAX_KEYS:
                self._forget_full(now)
            return None

    def wait(self, key: str) -> float | None:
        """None when `key` has an event left (none is spent), else seconds until it has."""
        with self._lock:
            tokens = self._level(key, self._clock())
            return None if tokens >= 1 else (1 - tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        full = [key for key in self._buckets if self._level(key, now) >= self.limit]
        for key in full:
            del self._buckets[key]


def _too_many(message: str, seconds: float) -> ApiError:
    return ApiError(429, message, "rate_limited", retry_after=max(1, math.ceil(seconds)))


class ProjectQuota:
    """At most `limit` records per project: counted from the database once, then per append,
    and counted again when a project nears its quota or the count is older than 10 s."""

    def __init__(
        self, engine: Engine, limit: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.engine = engine
        self.limit = limit
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, float]] = {}

    def _count(self, project: str) -> int:
        with self.engine.connect() as connection:
            stored = int(connection.execute(_COUNT, {"project": project}).scalar_one())
        with self._lock:
            self._counts[project] = (stored, self._clock())
        return stored

    def check(self, project: str, digest: str) -> None:
        """429 when `project` holds its quota of records already, unless the statement of
        SHA-256 `digest` is one of them (resending a stored statement stays idempotent)."""
        with self._lock:
            stored, counted = self._counts.get(project, (-1, 0.0))
        fresh = self._clock() - counted < _QUOTA_RECOUNT_S
        if stored < 0 or not fresh or stored + 1 >= self.limit:
            stored = self._count(project)
        if stored >= self.limit and not self._holds(project, digest):
            raise _too_many(
                f"project {project} holds {stored} records, its quota "
                f"(GATEKEEPER_PROJECT_QUOTA_RECORDS) is {self.limit}; ask the operator to "
                "raise it",
                _QUOTA_RETRY_S,
            )

    def _holds(self, project: str, digest: str) -> bool:
        with self.engine.connect() as connection:
            params = {"project": project, "digest": digest}
            return connection.execute(_STORED, params).first() is not None

    def stored(self, project: str) -> None:
        """Counts one record appended to `project`."""
        with self._lock:
            if project in self._counts:
                stored, counted = self._counts[project]
                self._counts[project] = (stored + 1, counted)


@dataclass(frozen=True)
class Limits:
    """The limits of one service process; each is None when its setting is off."""

    per_token: Bucket | None = None
    failures: Bucket | None = None
    quota: ProjectQuota | None = None

    @classmethod
    def from_settings(cls, settings: Settings, engine: Engine) -> Limits:
        """The limits the settings turn on."""
        per_token = settings.rate_limit_per_token
        failures = settings.auth_failures_per_address
        quota = settings.project_quota_records
        return cls(
            per_token=SharedRateLimiter(engine, "per_token", per_token, 60.0)
            if per_token
            else None,
            failures=SharedRateLimiter(engine, "failures", failures, 60.0) if failures else None,
            quota=ProjectQuota(engine, quota) if quota else None,
        )

    def spend(self, token_id: str) -> None:
        """429 when the token made its requests of the minute (GATEKEEPER_RATE_LIMIT_PER_TOKEN)."""
        if self.per_token is None:
            return
        wait = self.per_token.take(token_id)
        if wait is not None:
            raise _too_many(
                f"this token made more than {self.per_token.limit} requests in a minute; "
                f"retry in {math.ceil(wait)} s",
                wait,
            )

    def refuse_blocked(self, address: str | None) -> None:
        """429 when the client address has failed to sign in too often (before any check)."""
        if self.failures is None or address is None:
            return
        wait = self.failures.wait(address)
        if wait is not None:
            raise _too_many(
                "too many refused tokens or witness cosignatures from this address; "
                f"retry in {math.ceil(wait)} s",
                wait,
            )

    def failed(self, address: str | None) -> None:
        """Counts one refused token, sign-in or witness cosignature from `address`."""
        if self.failures is not None and address is not None:
            self.failures.take(address)

    def check_quota(self, project: str, digest: str) -> None:
        """429 when the project holds its quota of records (GATEKEEPER_PROJECT_QUOTA_RECORDS)
        and the statement of SHA-256 `digest` is not one of them."""
        if self.quota is not None:
            self.quota.check(project, digest)

    def stored(self, project: str) -> None:
        """Counts one record appended to `project`."""
        if self.quota is not None:
            self.quota.stored(project)


def client_address(request: Request, trusted_proxies: list[str]) -> str | None:
    """The client's address: the peer, or behind a trusted proxy the last X-Forwarded-For hop
    that is not one of the trusted proxies."""
    peer = request.client.host if request.client is not None else None
    if peer is None or peer not in trusted_proxies:
        return peer
    hops = [hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",")]
    for hop in reversed(hops):
        if hop and hop not in trusted_proxies:
            return hop[:64]
    return peer
