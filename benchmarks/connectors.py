"""Requests and wall time of collecting one pull request / merge request against the fakes.

Run: `python benchmarks/connectors.py`. Prints, for PRs with 140 and 1,000 reviews and 3 check
runs, the HTTP requests the client sent against issue 4's budget (12 for 140 reviews), the same
count as seen by the fake server, and the in-process wall time (loopback; noisy on a busy machine).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors.github import GitHub
from connectors.gitlab import GitLab
from connectors.interface import RetryPolicy
from tests.fakes.github import FakeGitHub
from tests.fakes.gitlab import FakeGitLab

BUDGET = 12
POLICY = RetryPolicy(write_interval=0)


def _github(reviews: int) -> None:
    with FakeGitHub() as fake:
        for index in range(reviews - 1):
            fake.add_review(f"user{index}", "COMMENTED")
        fake.add_review("bob", "APPROVED")
        for name in ("build", "lint", "test"):
            fake.add_check_run(name)
        fake.contents["docs/CODEOWNERS"] = "* @bob\n"
        gh = GitHub(api_url=fake.url, token=None, repo=fake.repo, retry=POLICY)
        start = time.perf_counter()
        gh.collector(fake.number).collect()
        elapsed = time.perf_counter() - start
        print(
            f"github {reviews:>5} reviews: {gh.stats.requests} requests (server saw "
            f"{len(fake.requests)}), ratio to the budget of {BUDGET}: "
            f"{gh.stats.requests / BUDGET:.2f}; {elapsed * 1000:.0f} ms"
        )


def _gitlab() -> None:
    with FakeGitLab() as fake:
        fake.approve("reprazent")
        fake.contents["CODEOWNERS"] = "* @reprazent\n"
        gl = GitLab(api_url=fake.server_url, token=None, repo=fake.repo, retry=POLICY)
        start = time.perf_counter()
        gl.collector(fake.number).collect()
        elapsed = time.perf_counter() - start
        print(f"gitlab MR with pipeline: {gl.stats.requests} requests, {elapsed * 1000:.0f} ms")


if __name__ == "__main__":
    _github(140)
    _github(1000)
    _gitlab()
