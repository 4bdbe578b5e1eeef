"""The provider side of the service's review confirmation: approvers of one head, read with the
service's own token through the same connectors the CLI uses."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from connectors.interface import ProviderError, RequestStats, RetryPolicy
from connectors.providers import PROVIDERS

SERVICE_RETRY = RetryPolicy(attempts=2, base_delay=0.2, max_wait=5, max_total_wait=10, timeout=10)
"""Short retries: a statement waits at most seconds for the provider, never a reset hour."""

Reader = Callable[[str, str, str, int, str], tuple[str, ...] | None]


def approvers_reader(
    tokens: Mapping[str, str],
    *,
    retry: RetryPolicy = SERVICE_RETRY,
    stats: RequestStats | None = None,
) -> Reader:
    """`read(provider, api_url, repo, number, head)` with the token configured for `api_url`."""

    def read(
        provider: str, api_url: str, repo: str, number: int, head: str
    ) -> tuple[str, ...] | None:
        entry = PROVIDERS.get(provider)
        if entry is None:
            raise ProviderError(f"no provider named {provider!r} (known: {', '.join(PROVIDERS)})")
        connection = entry.connect(
            api_url=api_url, token=tokens.get(api_url), repo=repo, retry=retry, stats=stats
        )
        return connection.approvers_of(number, head)

    return read
