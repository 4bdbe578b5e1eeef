"""HTTP plumbing shared by the provider connectors: a counting, bounded urllib3 Retry.

Both PyGithub (`retry=`) and python-gitlab (through the `requests.Session` it is given) send every
request through urllib3 with this Retry object, so one class counts every attempt on the client
side, backs off with jitter on connection errors, 5xx and 429, honours `Retry-After` and
`X-RateLimit-Reset`, and bounds the total wait.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import requests
from urllib3 import BaseHTTPResponse
from urllib3.connectionpool import ConnectionPool
from urllib3.util.retry import Retry

from connectors.interface import (
    ProviderError,
    ProviderPermissionError,
    RateLimitError,
    RequestStats,
    RetryPolicy,
)

_log = logging.getLogger(__name__)

RETRY_STATUSES = [429, *range(500, 600)]


class WaitBudgetExceededError(Exception):
    """Raised inside urllib3 when the next wait would break the retry policy's bounds."""

    def __init__(self, wait: float, policy: RetryPolicy) -> None:
        super().__init__(f"asked to wait {wait:.0f} s")
        self.wait = wait
        self.policy = policy


class CountingRetry(Retry):
    """A urllib3 Retry that counts every attempt and keeps waits within a RetryPolicy."""

    def __init__(self, *, policy: RetryPolicy, stats: RequestStats, **kw: Any) -> None:
        self.policy = policy
        self.stats = stats
        kw.setdefault("total", policy.attempts - 1)
        kw.setdefault("backoff_factor", policy.base_delay)
        kw.setdefault("backoff_max", policy.max_delay)
        kw.setdefault("backoff_jitter", policy.jitter)
        kw.setdefault("status_forcelist", list(RETRY_STATUSES))
        kw.setdefault("raise_on_status", False)
        kw.setdefault("respect_retry_after_header", True)
        kw.setdefault("allowed_methods", None)  # POST/PATCH too: feedback writes are idempotent
        super().__init__(**kw)

    def new(self, **kw: Any) -> Self:
        kw.setdefault("policy", self.policy)
        kw.setdefault("stats", self.stats)
        return super().new(**kw)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        # urllib3 asks this once for every response it receives: the place to count requests.
        self.stats.record_request(method)
        return super().is_retry(method, status_code, has_retry_after)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        if error is not None and response is None:
            self.stats.record_request(method or "GET")  # an attempt that never got a response
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def get_backoff_time(self) -> float:
        """Exponential backoff from the first retry on, plus jitter, capped at max_delay."""
        tries = len(self.history)
        if tries == 0:
            return 0.0
        policy = self.policy
        jitter = random.uniform(0, policy.jitter)  # noqa: S311 - spreading retries, not a secret
        return float(min(policy.max_delay, policy.base_delay * 2 ** (tries - 1) + jitter))

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        wait = self.required_wait(response)
        if wait <= 0:
            return
        policy = self.policy
        if wait > policy.max_wait or self.stats.waited + wait > policy.max_total_wait:
            raise WaitBudgetExceededError(wait, policy)
        _log.info("waiting %.2f s before retrying", wait)
        self.stats.waits.append(wait)
        policy.sleep(wait)

    def required_wait(self, response: BaseHTTPResponse | None) -> float:
        """Seconds to wait: Retry-After, else a spent rate limit's reset, else backoff."""
        if response is not None:
            retry_after = self.get_retry_after(response)
            if retry_after:
                return retry_after
            reset = _rate_limit_reset(response)
            if reset is not None:
                return reset
        return self.get_backoff_time()


def _rate_limit_reset(response: BaseHTTPResponse) -> float | None:
    headers = response.headers
    remaining = headers.get("X-RateLimit-Remaining") or headers.get("RateLimit-Remaining")
    reset = headers.get("X-RateLimit-Reset") or headers.get("RateLimit-Reset")
    if remaining != "0" or reset is None or not reset.strip().isdigit():
        return None
    return max(0.0, int(reset) - time.time()) + 1.0


def rate_limit_error(error: WaitBudgetExceededError, provider: str) -> RateLimitError:
    """The user's sentence for a wait the policy does not allow."""
    policy = error.policy
    return RateLimitError(
        f"{provider} asked to wait {error.wait:.0f} s before retrying, more than allowed "
        f"(single wait {policy.max_wait:.0f} s, total {policy.max_total_wait:.0f} s); "
        "try again later"
    )


def counting_session(policy: RetryPolicy, stats: RequestStats, **retry: Any) -> requests.Session:
    """A requests session whose adapters retry and count with CountingRetry."""
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(
        max_retries=CountingRetry(policy=policy, stats=stats, **retry)
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


@dataclass(frozen=True)
class Place:
    """Where a connector works, for the sentences of its errors."""

    provider: str  # "GitHub" | "GitLab"
    repo: str
    api_url: str
    token_hint: str  # what to do about a refused token
    noun: str = "repository"


def status_error(
    place: Place,
    status: int,
    message: str,
    *,
    doing: str,
    permission: str,
    write: bool,
    requests_sent: int,
) -> ProviderError:
    """One sentence for an HTTP error status: 401/403/404 name the token, permission or repo."""
    who = place.provider
    if status == 401:
        text = f"{who} refused the token (401 {message or 'Unauthorized'}) while {doing}: "
        text += place.token_hint
    elif status == 403:
        text = (
            f"{who} refused {doing} (403 {message or 'Forbidden'}): the token lacks the "
            f"'{permission}' permission on {place.repo}"
        )
    elif status == 404:
        text = (
            f"{who} found nothing while {doing} (404): check that {place.repo} is the right "
            f"{place.noun} at {place.api_url} and that the token can see it ('{permission}')"
        )
    else:
        return ProviderError(
            f"{who} answered {status} {message} while {doing} "
            f"(after {requests_sent} request(s) with retries)"
        )
    return ProviderPermissionError(text, status=status, write=write)
