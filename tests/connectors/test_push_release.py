"""Acceptance: push, release and tag pipelines gate the commit with the merging PR/MR approvals."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from connectors.interface import RetryPolicy
from tests.cli import run_gatekeeper
from tests.connectors.conftest import (
    FAST_RETRIES,
    TOKEN,
    gate_policy,
    github_client,
    gitlab_client,
)
from tests.fakes.github import FakeGitHub
from tests.fakes.gitlab import FakeGitLab

MERGE = "5eed" + "1" * 36
DIRECT = "d1ec7" + "2" * 35
POLICY = gate_policy("release-gate")


def _gatekeeper(
    tmp_path: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "policy.yml").write_text(POLICY)
    return run_gatekeeper(*args, env={**FAST_RETRIES, **env}, cwd=tmp_path)


def _evaluate(tmp_path: Path, env: dict[str, str]) -> tuple[int, dict[str, Any], str]:
    result = _gatekeeper(tmp_path, env, "evaluate", "--policy", "policy.yml", "--format", "json")
    assert TOKEN not in result.stdout + result.stderr
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout), result.stderr


def _actions(fake: FakeGitHub, tmp_path: Path, event: str, payload: object) -> dict[str, str]:
    (tmp_path / "event.json").write_text(json.dumps(payload))
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_API_URL": fake.url,
        "GITHUB_REPOSITORY": fake.repo,
        "GITHUB_EVENT_NAME": event,
        "GITHUB_EVENT_PATH": str(tmp_path / "event.json"),
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": "4343",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_TOKEN": TOKEN,
    }


def _push(fake: FakeGitHub, tmp_path: Path, sha: str) -> dict[str, str]:
    payload = {"ref": "refs/heads/main", "after": sha, "head_commit": {"id": sha}}
    env = _actions(fake, tmp_path, "push", payload)
    return {**env, "GITHUB_SHA": sha, "GITHUB_REF": "refs/heads/main"}


def _merged_pull_request(fake: FakeGitHub) -> None:
    """PR #7 merged as MERGE: bob approved its head, carol an older commit; checks differ."""
    fake.merge(MERGE, other_open=True)
    fake.add_review("bob", "APPROVED")
    fake.add_review("carol", "APPROVED", commit="0" * 40)
    fake.add_check_run("build", sha=MERGE)
    fake.add_check_run("pr-only", conclusion="failure")  # on the PR head, not the pushed commit


def test_push_takes_approvals_from_the_pull_request_that_merged_the_commit(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    """A push run gates the pushed commit, counting approvals of the merging PR's own head."""
    _merged_pull_request(fake_github)
    code, verdict, _ = _evaluate(tmp_path, _push(fake_github, tmp_path, MERGE))
    assert code == 0
    facts = verdict["facts"]
    assert facts["subject"]["commit"] == MERGE
    assert facts["subject"]["ref"] == "refs/heads/main"
    assert facts["subject"]["number"] == 7
    assert facts["reviews"]["approvers"] == ["bob"]
    assert facts["reviews"]["stale_approvals"] == 1
    assert [run["name"] for run in facts["checks"]["runs"]] == ["build"]
    assert facts["change"]["title"] == fake_github.title
    [status] = fake_github.created_statuses
    assert (status["sha"], status["state"]) == (MERGE, "success")
    assert fake_github.comments == []
    assert fake_github.created_check_runs == []
    assert "release-gate" in (tmp_path / "summary.md").read_text()
    assert "\npass\n" in (tmp_path / "output").read_text()


def test_direct_push_has_no_reviews_and_fails_closed(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    """A commit no PR merged: reviews are missing with the sentence, the gate fails, status only."""
    fake_github.push_commit(DIRECT, "mallory", "hotfix straight to main")
    fake_github.add_check_run("build", sha=DIRECT)
    code, verdict, _ = _evaluate(tmp_path, _push(fake_github, tmp_path, DIRECT))
    assert code == 1
    facts = verdict["facts"]
    assert facts["missing"]["reviews"] == "commit d1ec722 was pushed without a pull request"
    assert facts["checks"]["failed"] == []
    assert facts["subject"]["commit"] == DIRECT
    assert facts["change"]["author"] == "mallory"
    [rule] = [r for r in verdict["rules"] if r["id"] == "approved"]
    assert rule["outcome"] == "fail"
    assert "pushed without a pull request" in rule["message"]
    [status] = fake_github.created_statuses
    assert (status["sha"], status["state"]) == (DIRECT, "failure")
    assert fake_github.comments == []


def test_release_gates_the_tagged_commit(fake_github: FakeGitHub, tmp_path: Path) -> None:
    """A release run gates GITHUB_SHA on the tag's ref, approvals from the merging PR."""
    _merged_pull_request(fake_github)
    payload = {
        "action": "published",
        "release": {"tag_name": "v1.2.0", "target_commitish": "main", "draft": False},
    }
    env = {**_actions(fake_github, tmp_path, "release", payload), "GITHUB_SHA": MERGE}
    code, verdict, _ = _evaluate(tmp_path, env)
    assert code == 0
    assert verdict["facts"]["subject"]["ref"] == "refs/tags/v1.2.0"
    assert verdict["facts"]["subject"]["commit"] == MERGE
    assert [s["sha"] for s in fake_github.created_statuses] == [MERGE]
    assert fake_github.comments == []


def test_collect_commit_outside_ci(fake_github: FakeGitHub, tmp_path: Path) -> None:
    """`collect --commit SHA` without --pr finds the merging PR through the API, no CI needed."""
    _merged_pull_request(fake_github)
    result = _gatekeeper(
        tmp_path,
        {"GITHUB_TOKEN": TOKEN},
        "collect",
        "--provider",
        "github",
        "--api-url",
        fake_github.url,
        "--repo",
        fake_github.repo,
        "--commit",
        MERGE,
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    assert (facts["subject"]["commit"], facts["subject"]["number"]) == (MERGE, 7)
    assert facts["reviews"]["approvers"] == ["bob"]
    assert fake_github.count("GET", f"/commits/{MERGE}/pulls") == 1


def test_request_budget_of_a_pushed_commit(fake_github: FakeGitHub, policy: RetryPolicy) -> None:
    """Finding the merging PR costs one request; the listed PR is used without re-reading it."""
    _merged_pull_request(fake_github)
    gh = github_client(fake_github, policy)
    facts = gh.collector(None, commit=MERGE, ref="refs/heads/main").collect()
    assert facts.reviews is not None
    assert facts.reviews.approvers == ("bob",)
    assert gh.stats.requests == len(fake_github.requests)
    # commit pulls, commits, files, linked issues (GraphQL), reviews, CODEOWNERS x3, checks x2
    assert gh.stats.requests == 10
    assert fake_github.count("GET", "/pulls/7") == 3  # commits, files, reviews; never the PR


def _tag_pipeline(fake: FakeGitLab, sha: str, **extra: str) -> dict[str, str]:
    return {
        "GITLAB_CI": "true",
        "CI_API_V4_URL": fake.url,
        "CI_PROJECT_PATH": fake.repo,
        "CI_COMMIT_SHA": sha,
        "CI_PIPELINE_SOURCE": "push",
        "CI_JOB_URL": "https://git.example/group/app/-/jobs/100",
        "GITLAB_TOKEN": TOKEN,
        **extra,
    }


def test_gitlab_tag_pipeline_uses_the_merging_merge_request(
    fake_gitlab: FakeGitLab, tmp_path: Path
) -> None:
    """A tag pipeline gates the tagged commit; approvals come from the MR that merged it."""
    fake_gitlab.merge(MERGE)
    fake_gitlab.approve("reprazent")
    env = _tag_pipeline(fake_gitlab, MERGE, CI_COMMIT_TAG="v1.2.0", CI_COMMIT_REF_NAME="v1.2.0")
    code, verdict, _ = _evaluate(tmp_path, env)
    assert code == 0
    facts = verdict["facts"]
    assert facts["subject"]["commit"] == MERGE
    assert facts["subject"]["ref"] == "refs/tags/v1.2.0"
    assert facts["subject"]["number"] == fake_gitlab.number
    assert facts["reviews"]["approvers"] == ["reprazent"]
    assert facts["checks"]["runs"][0]["name"] == "pipeline #46"
    [status] = fake_gitlab.statuses
    assert (status["sha"], status["state"]) == (MERGE, "success")
    assert fake_gitlab.notes == []
    assert "GATEKEEPER_VERDICT=pass\n" in (tmp_path / "gatekeeper.env").read_text()


def test_gitlab_direct_push_fails_closed(fake_gitlab: FakeGitLab, tmp_path: Path) -> None:
    """A branch pipeline of a commit no MR merged: reviews missing with the sentence, gate fails."""
    fake_gitlab.push_commit(DIRECT, "Mallory", "hotfix straight to main")
    env = _tag_pipeline(fake_gitlab, DIRECT, CI_COMMIT_BRANCH="main", CI_COMMIT_REF_NAME="main")
    code, verdict, _ = _evaluate(tmp_path, env)
    assert code == 1
    facts = verdict["facts"]
    assert facts["missing"]["reviews"] == "commit d1ec722 was pushed without a merge request"
    assert facts["subject"]["ref"] == "refs/heads/main"
    assert facts["checks"]["failed"] == []
    [status] = fake_gitlab.statuses
    assert (status["sha"], status["state"]) == (DIRECT, "failed")
    assert fake_gitlab.notes == []


def test_gitlab_commit_prefers_the_mr_whose_merge_commit_it_is(
    fake_gitlab: FakeGitLab, policy: RetryPolicy
) -> None:
    """Among MRs containing the commit, the merged one that produced it is chosen."""
    fake_gitlab.merge(MERGE)
    listed = fake_gitlab.commit_mrs[MERGE][0]
    fake_gitlab.commit_mrs[MERGE] = [
        {**listed, "iid": 1, "state": "opened", "merge_commit_sha": None},
        {**listed, "iid": 2, "state": "merged", "merge_commit_sha": "b" * 40, "sha": "c" * 40},
        listed,
    ]
    facts = gitlab_client(fake_gitlab, policy).collector(None, commit=MERGE).collect()
    assert facts.subject is not None
    assert facts.subject.commit == MERGE
    read = {
        r.path.split("/merge_requests/")[1].split("/")[0]
        for r in fake_gitlab.requests
        if "/merge_requests/" in r.path
    }
    assert read == {str(fake_gitlab.number)}
