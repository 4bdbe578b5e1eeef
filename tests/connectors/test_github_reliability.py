"""Retries, rate limits and permission errors of the GitHub connector against the fake."""

from __future__ import annotations

import time

import pytest

from connectors.interface import (
    ProviderError,
    ProviderPermissionError,
    RateLimitError,
    RetryPolicy,
)
from gatekeeper.errors import EXIT_BAD_INPUT, ProviderAuthError
from tests.connectors.conftest import SleepLog, github_client
from tests.fakes.github import NO_ACCESS, SECONDARY_LIMIT, FakeGitHub


def test_a_502_then_success_is_retried(
    fake_github: FakeGitHub, policy: RetryPolicy, sleeps: SleepLog
) -> None:
    """A 502 on the pull request is retried after a backoff and the collection succeeds."""
    fake_github.fail(502, path_contains="/pulls/7", times=2)
    gh = github_client(fake_github, policy)
    facts = gh.collector(7).collect()
    assert facts.subject is not None
    assert fake_github.count("GET", "/pulls/7") >= 3
    assert len(sleeps.waits) == 2
    assert all(0 <= wait <= policy.max_delay for wait in sleeps.waits)
    assert gh.stats.requests == len(fake_github.requests)


def test_persistent_5xx_gives_a_clear_error(fake_github: FakeGitHub, policy: RetryPolicy) -> None:
    """When every attempt fails, the error names the status and the number of attempts."""
    fake_github.fail(503, path_contains="/pulls/7", times=None)
    with pytest.raises(ProviderError, match="503") as caught:
        github_client(fake_github, policy).collector(7).collect()
    assert fake_github.count("GET", "/pulls/7") == policy.attempts
    assert "reading pull request #7" in str(caught.value)


def test_429_honours_retry_after(
    fake_github: FakeGitHub, policy: RetryPolicy, sleeps: SleepLog
) -> None:
    """A 429 with Retry-After waits exactly what the server asked, then succeeds."""
    fake_github.fail(
        429, headers={"Retry-After": "7"}, path_contains="/reviews", body={"message": "slow down"}
    )
    github_client(fake_github, policy).collector(7).collect()
    assert sleeps.waits == [7]


def test_secondary_rate_limit_waits_and_retries(
    fake_github: FakeGitHub, policy: RetryPolicy, sleeps: SleepLog
) -> None:
    """A 403 secondary rate limit without headers waits the configured time, then retries."""
    fake_github.fail(403, body=SECONDARY_LIMIT, path_contains="/files")
    facts = github_client(fake_github, policy).collector(7).collect()
    assert facts.change is not None
    assert sleeps.waits == [policy.secondary_rate_wait]
    assert fake_github.count("GET", "/files") == 2


def test_secondary_rate_limit_with_retry_after(
    fake_github: FakeGitHub, policy: RetryPolicy, sleeps: SleepLog
) -> None:
    """A secondary rate limit's Retry-After header is honoured."""
    fake_github.fail(
        403, body=SECONDARY_LIMIT, headers={"Retry-After": "11"}, path_contains="/files"
    )
    github_client(fake_github, policy).collector(7).collect()
    assert sleeps.waits == [11]


def test_spent_primary_limit_waits_until_reset(
    fake_github: FakeGitHub, policy: RetryPolicy, sleeps: SleepLog
) -> None:
    """A 429 with X-RateLimit-Remaining 0 waits until X-RateLimit-Reset."""
    reset = int(time.time()) + 20
    fake_github.fail(
        429,
        path_contains="/commits",
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
    )
    github_client(fake_github, policy).collector(7).collect()
    assert len(sleeps.waits) == 1
    assert 15 <= sleeps.waits[0] <= 22


def test_a_wait_beyond_the_bound_gives_up_with_a_clear_error(
    fake_github: FakeGitHub, policy: RetryPolicy, sleeps: SleepLog
) -> None:
    """A Retry-After longer than the policy allows raises a rate-limit error without waiting."""
    fake_github.fail(429, headers={"Retry-After": "3600"}, path_contains="/pulls/7")
    with pytest.raises(RateLimitError, match="3600 s"):
        github_client(fake_github, policy).collector(7).collect()
    assert sleeps.waits == []


def test_total_wait_is_bounded(
    fake_github: FakeGitHub, policy: RetryPolicy, sleeps: SleepLog
) -> None:
    """Waits that each fit but together pass max_total_wait end in a clear error."""
    bounded = policy.model_copy(update={"max_total_wait": 25})
    fake_github.fail(503, headers={"Retry-After": "10"}, path_contains="/pulls/7", times=None)
    with pytest.raises(RateLimitError, match="total 25 s"):
        github_client(fake_github, bounded).collector(7).collect()
    assert sleeps.waits == [10, 10]


def test_403_for_a_missing_scope_names_the_permission(
    fake_github: FakeGitHub, policy: RetryPolicy
) -> None:
    """A 403 on check runs says which permission the token lacks; exit code 2."""
    fake_github.add_check_run("build")
    fake_github.fail(403, body=NO_ACCESS, path_contains="/check-runs", times=None)
    with pytest.raises(ProviderAuthError) as caught:
        github_client(fake_github, policy).collector(7).collect()
    message = str(caught.value)
    assert "checks: read" in message
    assert "octo/app" in message
    assert caught.value.exit_code == EXIT_BAD_INPUT
    assert fake_github.count("GET", "/check-runs") == 1  # a plain 403 is not retried


def test_404_names_the_repository(fake_github: FakeGitHub, policy: RetryPolicy) -> None:
    """A wrong repository gives a 404 sentence naming the repository and the API URL."""
    gh = github_client(fake_github, policy)
    fake_github.fail(404, body={"message": "Not Found"}, path_contains="/pulls/7")
    with pytest.raises(ProviderPermissionError, match="right repository") as caught:
        gh.collector(7).collect()
    assert caught.value.status == 404
    assert fake_github.url in str(caught.value)


def test_bad_token_is_a_401_sentence(fake_github: FakeGitHub, policy: RetryPolicy) -> None:
    """A token the server does not know gives one sentence about GITHUB_TOKEN."""
    from connectors.github import GitHub

    gh = GitHub(api_url=fake_github.url, token="wrong-token-xyz", repo="octo/app", retry=policy)
    with pytest.raises(ProviderPermissionError, match="GITHUB_TOKEN") as caught:
        gh.collector(7).collect()
    assert "wrong-token-xyz" not in str(caught.value)


def test_unreachable_server_is_a_connector_error(policy: RetryPolicy) -> None:
    """Connection refused is retried, then reported with the URL and the attempts."""
    from connectors.github import GitHub

    with FakeGitHub() as fake:
        url = fake.url
    gh = GitHub(api_url=url, token=None, repo="octo/app", retry=policy)
    with pytest.raises(ProviderError, match="cannot reach GitHub"):
        gh.collector(7).collect()
    assert gh.stats.requests == policy.attempts
