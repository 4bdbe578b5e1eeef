"""`gatekeeper collect` as a subprocess against the fakes: output, CI context, errors, masking."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.cli import run_gatekeeper
from tests.connectors.conftest import FAST_RETRIES, TOKEN
from tests.fakes.github import FakeGitHub
from tests.fakes.gitlab import FakeGitLab


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_gatekeeper(*args, env={**FAST_RETRIES, **env})


def test_collect_prints_github_facts_and_the_request_count(fake_github: FakeGitHub) -> None:
    """Collect prints the Facts JSON, and --verbose logs the request count the fake also saw."""
    fake_github.add_review("bob", "APPROVED")
    result = _run(
        "--verbose",
        "collect",
        "--provider",
        "github",
        "--api-url",
        fake_github.url,
        "--repo",
        "octo/app",
        "--pr",
        "7",
        "--format",
        "json",
        env={"GITHUB_TOKEN": TOKEN},
    )
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    assert facts["reviews"]["approvers"] == ["bob"]
    assert facts["subject"]["number"] == 7
    assert f"{len(fake_github.requests)} HTTP request(s) to github" in result.stderr


def test_collect_in_github_actions_needs_no_flags(fake_github: FakeGitHub, tmp_path: Path) -> None:
    """Inside a GitHub Actions pull_request run, repository, PR and API URL come from the env."""
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7, "head": {"sha": fake_github.head}}}))
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_API_URL": fake_github.url,
        "GITHUB_REPOSITORY": "octo/app",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_TOKEN": TOKEN,
    }
    result = _run("collect", "--provider", "github", "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["subject"]["repo"] == "octo/app"


def test_collect_in_a_gitlab_mr_pipeline(fake_gitlab: FakeGitLab) -> None:
    """In a GitLab MR pipeline, project, MR and API URL come from CI_*; the issue regex is set."""
    env = {
        "GITLAB_CI": "true",
        "CI_API_V4_URL": fake_gitlab.url,
        "CI_PROJECT_PATH": "group/app",
        "CI_MERGE_REQUEST_IID": str(fake_gitlab.number),
        "CI_COMMIT_SHA": fake_gitlab.head,
        "GITLAB_TOKEN": TOKEN,
        "GATEKEEPER_ISSUE_PATTERN": r"QA-\d+|roulette",
    }
    result = _run("collect", "--provider", "gitlab", "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    assert facts["subject"]["provider"] == "gitlab"
    assert facts["coverage"]["line_rate"] == 0.7634
    assert facts["change"]["linked_issues"] == ["roulette", "QA-7"]


def test_missing_repository_is_a_usage_error() -> None:
    """Outside CI without --repo, collect exits 2 with one sentence."""
    result = _run("collect", "--provider", "github", "--pr", "1", env={})
    assert result.returncode == 2
    assert "--repo" in result.stderr
    assert "Traceback" not in result.stderr


def test_token_never_appears_in_output_or_errors(fake_github: FakeGitHub) -> None:
    """Verbose runs against 502s, a 403 and a 401 never print the token anywhere."""

    def collect(token: str) -> subprocess.CompletedProcess[str]:
        arguments = ["-v", "collect", "--provider", "github", "--api-url", fake_github.url]
        arguments += ["--repo", "octo/app", "--pr", "7"]
        return _run(*arguments, env={"GITHUB_TOKEN": token})

    fake_github.fail(502, times=None, path_contains="/pulls/7", body={"message": TOKEN})
    runs = [collect(TOKEN)]
    fake_github.faults.clear()
    fake_github.fail(403, times=None, body={"message": f"Resource not accessible {TOKEN}"})
    runs.append(collect(TOKEN))
    fake_github.faults.clear()
    runs.append(collect(TOKEN + "x"))
    for result in runs:
        assert result.returncode == 2
        assert "error: " in result.stderr
        assert TOKEN not in result.stdout
        assert TOKEN not in result.stderr
    assert "statuses" not in runs[1].stderr
    assert "pull-requests: read" in runs[1].stderr
    assert "GITHUB_TOKEN" in runs[2].stderr
    assert any(r.headers.get("authorization") == f"token {TOKEN}" for r in fake_github.requests)
