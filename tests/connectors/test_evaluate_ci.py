"""Acceptance: `gatekeeper evaluate` in simulated CI runs posts feedback and exits by verdict."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.cli import run_gatekeeper
from tests.connectors.conftest import FAST_RETRIES, TOKEN, gate_policy
from tests.fakes.github import NO_ACCESS, FakeGitHub
from tests.fakes.gitlab import FakeGitLab

POLICY = gate_policy("pr-gate")


def _evaluate(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    policy = tmp_path / "policy.yml"
    policy.write_text(POLICY)
    return run_gatekeeper(
        "evaluate", "--policy", str(policy), *args, env={**FAST_RETRIES, **env}, cwd=tmp_path
    )


def _actions(fake: FakeGitHub, tmp_path: Path) -> dict[str, str]:
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps(
            {
                "action": "synchronize",
                "pull_request": {
                    "number": fake.number,
                    "head": {"sha": fake.head, "ref": fake.head_ref},
                },
            }
        )
    )
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_API_URL": fake.url,
        "GITHUB_REPOSITORY": fake.repo,
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_SHA": "f" * 40,
        "GITHUB_REF": f"refs/pull/{fake.number}/merge",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_TOKEN": TOKEN,
    }


@pytest.mark.parametrize(("approve", "code"), [(True, 0), (False, 1)])
def test_github_actions_pull_request_run(
    fake_github: FakeGitHub, tmp_path: Path, approve: bool, code: int
) -> None:
    """The gate posts status, check run, sticky comment, summary and outputs; exit by verdict."""
    fake_github.add_check_run("build")
    if approve:
        fake_github.add_review("bob", "APPROVED")
    result = _evaluate(tmp_path, _actions(fake_github, tmp_path))
    assert result.returncode == code, result.stderr
    verdict = "pass" if approve else "fail"
    [status] = fake_github.created_statuses
    assert status["context"] == "gatekeeper/pr-gate"
    assert status["state"] == ("success" if approve else "failure")
    assert status["target_url"] == "https://github.com/octo/app/actions/runs/4242"
    assert status["sha"] == fake_github.head
    [run] = fake_github.created_check_runs
    assert run["conclusion"] == ("success" if approve else "failure")
    [comment] = fake_github.comments
    assert comment["body"].startswith("<!-- gatekeeper:pr-gate -->")
    assert "pr-gate" in (tmp_path / "summary.md").read_text()
    output = (tmp_path / "output").read_text()
    assert "verdict<<ghadelimiter_" in output
    assert f"\n{verdict}\n" in output
    assert TOKEN not in result.stdout + result.stderr


def test_fork_pull_request_with_read_only_token(fake_github: FakeGitHub, tmp_path: Path) -> None:
    """403 on every write becomes a notice; the exit code still follows the verdict."""
    fake_github.add_review("bob", "APPROVED")
    fake_github.fail(403, body=NO_ACCESS, method="POST", times=None)
    result = _evaluate(tmp_path, _actions(fake_github, tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("::notice title=Gatekeeper feedback::") == 3
    assert fake_github.created_statuses == []
    assert "pr-gate" in (tmp_path / "summary.md").read_text()


def test_no_feedback_writes_nothing(fake_github: FakeGitHub, tmp_path: Path) -> None:
    """--no-feedback is a dry run: facts are read, nothing is written, exit by verdict."""
    result = _evaluate(tmp_path, _actions(fake_github, tmp_path), "--no-feedback")
    assert result.returncode == 1
    writes = fake_github.count("POST") - fake_github.count("POST", "/graphql")  # GraphQL reads
    assert writes == fake_github.count("PATCH") == 0
    assert not (tmp_path / "summary.md").exists()
    assert not (tmp_path / "output").exists()


def _mr_pipeline(fake: FakeGitLab) -> dict[str, str]:
    return {
        "GITLAB_CI": "true",
        "CI_API_V4_URL": fake.url,
        "CI_PROJECT_PATH": fake.repo,
        "CI_MERGE_REQUEST_IID": str(fake.number),
        "CI_COMMIT_SHA": fake.head,
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_JOB_URL": "https://git.example/group/app/-/jobs/99",
        "GITLAB_TOKEN": TOKEN,
    }


@pytest.mark.parametrize(("job_status", "code"), [("success", 0), ("failed", 1)])
def test_gitlab_merge_request_pipeline(
    fake_gitlab: FakeGitLab, tmp_path: Path, job_status: str, code: int
) -> None:
    """The gate posts an MR note, a commit status and a dotenv file; exit by verdict."""
    fake_gitlab.approve("reprazent")
    fake_gitlab.add_job("e2e", job_status)
    result = _evaluate(tmp_path, _mr_pipeline(fake_gitlab))
    assert result.returncode == code, result.stderr
    verdict = "pass" if code == 0 else "fail"
    [note] = fake_gitlab.notes
    assert note["body"].startswith("<!-- gatekeeper:pr-gate -->")
    [status] = fake_gitlab.statuses
    assert status["name"] == "gatekeeper/pr-gate"
    assert status["state"] == ("success" if code == 0 else "failed")
    assert status["target_url"] == "https://git.example/group/app/-/jobs/99"
    dotenv = (tmp_path / "gatekeeper.env").read_text()
    assert f"GATEKEEPER_VERDICT={verdict}\n" in dotenv
    assert TOKEN not in result.stdout + result.stderr


def test_action_flags_no_comment_summary_file_and_dotenv(
    fake_gitlab: FakeGitLab, tmp_path: Path
) -> None:
    """--no-comment skips the note; --summary-file and --dotenv write where they are told."""
    fake_gitlab.approve("reprazent")
    result = _evaluate(
        tmp_path,
        _mr_pipeline(fake_gitlab),
        "--no-comment",
        "--summary-file",
        "verdict.md",
        "--dotenv",
        "out.env",
    )
    assert result.returncode == 0, result.stderr
    assert fake_gitlab.notes == []
    assert len(fake_gitlab.statuses) == 1
    assert "pr-gate" in (tmp_path / "verdict.md").read_text()
    assert (tmp_path / "out.env").read_text().startswith("GATEKEEPER_VERDICT=pass\n")
    assert not (tmp_path / "gatekeeper.env").exists()


def test_workflow_run_phase_two_gates_the_pull_requests_head_commit(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    """The trusted `workflow_run` phase (docs/github.md): GITHUB_SHA is the default branch's
    commit, the PR comes from --pr; feedback must go to the PR's head commit from the API."""
    fake_github.add_review("bob", "APPROVED")
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps(
            {
                "action": "completed",
                "workflow_run": {"id": 777, "event": "pull_request", "head_sha": fake_github.head},
            }
        )
    )
    env = _actions(fake_github, tmp_path) | {
        "GITHUB_EVENT_NAME": "workflow_run",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REF": "refs/heads/main",
    }
    result = _evaluate(
        tmp_path, env, "--provider", "github", "--repo", fake_github.repo,
        "--pr", str(fake_github.number),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [status] = fake_github.created_statuses
    assert status["sha"] == fake_github.head != env["GITHUB_SHA"]
    [run] = fake_github.created_check_runs
    assert run["head_sha"] == fake_github.head
    [comment] = fake_github.comments
    assert comment["body"].startswith("<!-- gatekeeper:pr-gate -->")


def test_policy_issue_pattern_decides_the_linked_tickets(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    """A policy's `issue_pattern` finds the change's tickets (here `SHOP-7` in the body, not the
    default Jira and `#N` forms), so a rule on linked issues follows the team's own convention."""
    fake_github.add_review("bob", "APPROVED")
    fake_github.title = "stricter login"
    fake_github.head_ref = "feature/login"
    fake_github.commits = []
    fake_github.add_commit(fake_github.head, "alice", "tighten the login check, QA-12")
    fake_github.body = "Ticket: SHOP-7"
    policy = tmp_path / "ticket.yml"
    policy.write_text(
        "version: 1\nname: tickets\nissue_pattern: 'SHOP-\\d+'\nrules:\n"
        "  - id: ticket\n    expr: size(change.linked_issues) == 1 && "
        "change.linked_issues[0] == 'SHOP-7'\n",
        encoding="utf-8",
    )
    result = run_gatekeeper(
        "evaluate", "--policy", str(policy), "--no-feedback", "--format", "json",
        env={**FAST_RETRIES, **_actions(fake_github, tmp_path)}, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["facts"]["change"]["linked_issues"] == ["SHOP-7"]
