"""Feedback written to the fake GitHub: commit status, sticky comment, check run, size limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.files import collect_report_facts
from connectors.interface import (
    GITHUB_CHECK_SUMMARY_LIMIT,
    GITHUB_COMMENT_LIMIT,
    Feedback,
    RetryPolicy,
    fit,
    sticky_marker,
)
from gatekeeper.config import load_settings
from gatekeeper.facts import TestFailure, UncoveredLines
from tests.connectors.conftest import github_client
from tests.fakes.github import NO_ACCESS, FakeGitHub


def _feedback(verdict: str = "fail", body: str = "## Gate failed\n", **extra: object) -> Feedback:
    def render(limit: int | None) -> str:
        return fit(body, limit)

    return Feedback(
        verdict=verdict,  # type: ignore[arg-type]
        policy="pull-request",
        summary="2 of 3 rules passed",
        render=render,
        details_url="https://ci.example/run/1",
        **extra,  # type: ignore[arg-type]
    )


def test_commit_status_has_a_stable_context(fake_github: FakeGitHub, policy: RetryPolicy) -> None:
    """The verdict becomes a commit status `gatekeeper/<policy>` on the head commit."""
    gh = github_client(fake_github, policy)
    gh.publisher(number=7, commit=fake_github.head).publish(_feedback("pass"))
    [status] = fake_github.created_statuses
    assert status["context"] == "gatekeeper/pull-request"
    assert status["state"] == "success"
    assert status["sha"] == fake_github.head
    assert status["target_url"] == "https://ci.example/run/1"


def test_sticky_comment_is_updated_not_duplicated(
    fake_github: FakeGitHub, policy: RetryPolicy
) -> None:
    """Publishing twice leaves one comment with the marker, edited in place with the new body."""
    fake_github.comments.append(fake_github._comment("an unrelated human comment"))
    publisher = github_client(fake_github, policy).publisher(number=7, commit=fake_github.head)
    first = publisher.publish(_feedback(body="first run"))
    second = publisher.publish(_feedback(body="second run"))
    ours = [c for c in fake_github.comments if c["body"].startswith(sticky_marker("pull-request"))]
    assert len(ours) == 1
    assert ours[0]["body"].endswith("second run")
    assert len(fake_github.comments) == 2
    assert fake_github.count("POST", "/comments") == 1
    assert fake_github.count("PATCH", "/issues/comments/") == 1
    assert first.written["comment"] == second.written["comment"]


def test_check_run_sends_annotations_fifty_per_request(
    fake_github: FakeGitHub, policy: RetryPolicy
) -> None:
    """120 failures with file and line become 120 annotations in 1 create and 2 updates."""
    failures = (
        *(
            TestFailure(name=f"test_{i}", file="tests/test_x.py", line=i + 1, message="boom")
            for i in range(120)
        ),
        TestFailure(name="no_location", message="no file"),
        TestFailure(name="absolute", file="/home/runner/work/x.py", line=3),
        TestFailure(name="outside", file="../x.py", line=3),
    )
    gh = github_client(fake_github, policy)
    gh.publisher(number=7, commit=fake_github.head).publish(_feedback(failures=failures))
    [run] = fake_github.created_check_runs
    assert run["name"] == "gatekeeper/pull-request"
    assert run["conclusion"] == "failure"
    assert len(run["annotations"]) == 120
    assert fake_github.count("POST", "/check-runs") == 1
    assert fake_github.count("PATCH", "/check-runs/") == 2
    sizes = [
        len(r.body["output"]["annotations"])
        for r in fake_github.requests
        if "/check-runs" in r.path
    ]
    assert sizes == [50, 50, 20]


def test_uncovered_changed_lines_become_warning_annotations(
    fake_github: FakeGitHub, policy: RetryPolicy
) -> None:
    """Each run of changed lines no test ran is one warning annotation spanning those lines."""
    uncovered = (
        UncoveredLines(file="src/pay.py", ranges=((12, 14), (31, 31))),
        UncoveredLines(file="../outside.py", ranges=((1, 1),)),
    )
    gh = github_client(fake_github, policy)
    gh.publisher(number=7, commit=fake_github.head).publish(_feedback(uncovered=uncovered))
    [run] = fake_github.created_check_runs
    found = [
        (a["path"], a["start_line"], a["end_line"], a["annotation_level"], a["message"])
        for a in run["annotations"]
    ]
    assert found == [
        ("src/pay.py", 12, 14, "warning", "No test ran lines 12-14 of this change."),
        ("src/pay.py", 31, 31, "warning", "No test ran line 31 of this change."),
    ]


def test_long_body_respects_each_channel_limit(
    fake_github: FakeGitHub, policy: RetryPolicy
) -> None:
    """A 200,000-character verdict is cut to 65,536 (comment) and 65,535 (check run summary)."""
    body = "x" * 200_000
    asked: list[int | None] = []

    def render(limit: int | None) -> str:
        asked.append(limit)
        return fit(body, limit)

    feedback = Feedback(verdict="fail", policy="pull-request", summary="cut", render=render)
    github_client(fake_github, policy).publisher(number=7, commit=fake_github.head).publish(
        feedback
    )
    comment = fake_github.comments[0]["body"]
    summary = fake_github.created_check_runs[0]["output"]["summary"]
    assert len(comment) <= GITHUB_COMMENT_LIMIT
    assert len(summary) <= GITHUB_CHECK_SUMMARY_LIMIT
    assert "cut" in comment[-100:]
    assert GITHUB_CHECK_SUMMARY_LIMIT in asked


def test_renderer_overshoot_is_still_cut(fake_github: FakeGitHub, policy: RetryPolicy) -> None:
    """A renderer that ignores the limit cannot make a channel exceed it."""
    feedback = Feedback(
        verdict="pass", policy="p", summary="s", render=lambda _limit: "y" * 100_000
    )
    github_client(fake_github, policy).publisher(number=7, commit=fake_github.head).publish(
        feedback
    )
    assert len(fake_github.comments[0]["body"]) <= GITHUB_COMMENT_LIMIT


def test_read_only_token_turns_writes_into_notices(
    fake_github: FakeGitHub, policy: RetryPolicy
) -> None:
    """A fork PR's read-only token gets 403 on every write: notices, no exception."""
    fake_github.fail(403, body=NO_ACCESS, method="POST", times=None)
    gh = github_client(fake_github, policy)
    result = gh.publisher(number=7, commit=fake_github.head).publish(_feedback())
    assert result.written == {}
    assert len(result.notices) == 3
    assert any("statuses: write" in notice for notice in result.notices)
    assert any("checks: write" in notice for notice in result.notices)
    assert any("pull-requests: write" in notice for notice in result.notices)


XUNIT2 = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="3" skipped="0" tests="4">
<testcase classname="tests.test_shop.TestCart" name="test_total[2-3]" time="0.1">
<failure message="assert 5 == 6">tests/test_shop.py:9: AssertionError</failure></testcase>
<testcase classname="tests.test_shop" name="test_ok" time="0.1"/>
<testcase classname="shop.test_pay" name="test_refund" time="0.1">
<failure message="boom">src/shop/test_pay.py:2: ValueError</failure></testcase>
<testcase classname="..etc.passwd" name="test_x" time="0.1"><failure message="no"/></testcase>
</testsuite></testsuites>
"""


def test_pytest_xunit2_failures_become_annotations_at_their_def_line(
    fake_github: FakeGitHub, policy: RetryPolicy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pytest's default xunit2 report names no file: the classname finds the module in the
    repository tree (also under src/) and the annotation sits on the test's `def` line."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_shop.py").write_text(
        "import pytest\n\n\nclass TestCart:\n    @pytest.mark.parametrize('a', [2])\n"
        "    def test_total(self, a):\n        assert a + 3 == 6\n"
    )
    (tmp_path / "src" / "shop").mkdir(parents=True)
    (tmp_path / "src" / "shop" / "test_pay.py").write_text("async def test_refund():\n    1/0\n")
    (tmp_path / "report.xml").write_text(XUNIT2)
    monkeypatch.chdir(tmp_path)
    facts = collect_report_facts(["report.xml"], diff=None, base=None, settings=load_settings())
    assert facts.tests is not None
    gh = github_client(fake_github, policy)
    feedback = _feedback(failures=facts.tests.failures)
    gh.publisher(number=7, commit=fake_github.head).publish(feedback)
    [run] = fake_github.created_check_runs
    found = [(a["path"], a["start_line"], a["title"]) for a in run["annotations"]]
    assert found == [
        ("tests/test_shop.py", 6, "test_total[2-3]"),
        ("src/shop/test_pay.py", 1, "test_refund"),
    ]
