"""Fixtures for the connector tests: fake providers on loopback and fast retry policies."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.github import GitHub
from connectors.gitlab import GitLab
from connectors.interface import RetryPolicy
from tests.fakes.github import FakeGitHub
from tests.fakes.gitlab import FakeGitLab

TOKEN = "ghp_s3cr3tT0kenValue0123456789"


class SleepLog:
    """A sleep that records what it was asked to wait and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> SleepLog:
    """The waits the retry policy asked for, without waiting."""
    return SleepLog()


@pytest.fixture
def policy(sleeps: SleepLog) -> RetryPolicy:
    """A retry policy for tests: small delays, a recorded sleep."""
    return RetryPolicy(
        attempts=4,
        base_delay=0.01,
        max_delay=0.05,
        jitter=0.01,
        max_wait=30,
        max_total_wait=60,
        secondary_rate_wait=2,
        write_interval=0,
        sleep=sleeps,
    )


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """A running fake GitHub (github.com layout) with one pull request."""
    with FakeGitHub(token=TOKEN) as fake:
        yield fake


@pytest.fixture
def fake_gitlab() -> Iterator[FakeGitLab]:
    """A running fake self-managed GitLab with one merge request."""
    with FakeGitLab(token=TOKEN) as fake:
        yield fake


def github_client(fake: FakeGitHub, policy: RetryPolicy) -> GitHub:
    """A real PyGithub-backed connector pointed at the fake."""
    return GitHub(api_url=fake.url, token=TOKEN, repo=fake.repo, retry=policy)


def gitlab_client(fake: FakeGitLab, policy: RetryPolicy) -> GitLab:
    """A real python-gitlab-backed connector pointed at the fake."""
    return GitLab(api_url=fake.server_url, token=TOKEN, repo=fake.repo, retry=policy)


def gate_policy(name: str) -> str:
    """A policy text needing one approval on the head commit and every check green."""
    return f"""\
version: 1
name: {name}
rules:
  - id: approved
    title: Approved on the head commit
    metric: reviews.approvals
    op: ">="
    threshold: 1
  - id: checks-green
    title: Every check succeeded
    expr: size(checks.failed) == 0
"""


FAST_RETRIES = {
    "GATEKEEPER_PROVIDER_ATTEMPTS": "2",
    "GATEKEEPER_PROVIDER_BASE_DELAY": "0.01",
    "GATEKEEPER_PROVIDER_WRITE_INTERVAL": "0",
}
"""Retry settings that keep the CLI tests fast against the fakes."""
