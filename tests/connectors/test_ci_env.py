"""CI context detection and GitHub Actions file commands."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from connectors.ci_env import append_step_summary, detect_ci, write_github_output
from connectors.interface import GITHUB_STEP_SUMMARY_LIMIT, fit
from connectors.providers import resolve_target
from gatekeeper.errors import InputError, UsageError
from gatekeeper.logs import SECRETS


def _actions_env(tmp_path: Path, payload: object) -> dict[str, str]:
    event = tmp_path / "event.json"
    event.write_text(json.dumps(payload))
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_API_URL": "https://ghe.example/api/v3",
        "GITHUB_SERVER_URL": "https://ghe.example",
        "GITHUB_REPOSITORY": "octo/app",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_SHA": "merge" + "0" * 35,
        "GITHUB_REF": "refs/pull/9/merge",
        "GITHUB_RUN_ID": "123",
        "GITHUB_TOKEN": "ghs_tokenForCiEnvTest",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
    }


def test_github_actions_pull_request_context(tmp_path: Path) -> None:
    """The PR number and head SHA come from the event payload, not the merge commit."""
    env = _actions_env(
        tmp_path, {"pull_request": {"number": 9, "head": {"sha": "h" * 40, "ref": "feat"}}}
    )
    ci = detect_ci(env)
    assert ci is not None
    assert (ci.provider, ci.repo, ci.number, ci.commit, ci.ref) == (
        "github",
        "octo/app",
        9,
        "h" * 40,
        "feat",
    )
    assert ci.api_url == "https://ghe.example/api/v3"
    assert ci.run_url == "https://ghe.example/octo/app/actions/runs/123"
    assert ci.token is not None
    assert SECRETS.mask("x ghs_tokenForCiEnvTest y") == "x *** y"
    assert ci.step_summary == tmp_path / "summary.md"


def test_github_pr_number_from_the_ref_without_payload(tmp_path: Path) -> None:
    """Without a pull_request payload, refs/pull/N/merge still gives the number."""
    ci = detect_ci(_actions_env(tmp_path, {}))
    assert ci is not None
    assert ci.number == 9


def test_github_push_and_release_contexts(tmp_path: Path) -> None:
    """Push and release runs give no PR; the commit and ref come from GITHUB_* or the payload."""
    sha = "ab" * 20
    push = {"ref": "refs/heads/main", "after": sha, "head_commit": {"id": sha}}
    env = {**_actions_env(tmp_path, push), "GITHUB_EVENT_NAME": "push"}
    del env["GITHUB_SHA"], env["GITHUB_REF"]
    ci = detect_ci(env)
    assert ci is not None
    assert (ci.event, ci.number, ci.commit, ci.ref) == ("push", None, sha, "refs/heads/main")
    release = {"release": {"tag_name": "v2.0.0", "target_commitish": "main"}}
    env = {**_actions_env(tmp_path, release), "GITHUB_EVENT_NAME": "release", "GITHUB_SHA": sha}
    del env["GITHUB_REF"]
    ci = detect_ci(env)
    assert ci is not None
    assert (ci.number, ci.commit, ci.ref) == (None, sha, "refs/tags/v2.0.0")
    target = resolve_target(None, env=env)
    assert (target.number, target.commit, target.ref) == (None, sha, "refs/tags/v2.0.0")


def test_gitlab_tag_and_branch_pipeline_refs() -> None:
    """A tag pipeline's ref is refs/tags/TAG, a branch pipeline's refs/heads/BRANCH."""
    env = {
        "GITLAB_CI": "true",
        "CI_API_V4_URL": "https://git.example/api/v4",
        "CI_PROJECT_PATH": "group/app",
        "CI_COMMIT_SHA": "c" * 40,
        "CI_PIPELINE_SOURCE": "push",
        "CI_COMMIT_REF_NAME": "v3.1",
        "CI_COMMIT_TAG": "v3.1",
    }
    tag = detect_ci(env)
    assert tag is not None
    assert (tag.number, tag.commit, tag.ref) == (None, "c" * 40, "refs/tags/v3.1")
    del env["CI_COMMIT_TAG"]
    branch = detect_ci({**env, "CI_COMMIT_BRANCH": "main", "CI_COMMIT_REF_NAME": "main"})
    assert branch is not None
    assert branch.ref == "refs/heads/main"


def test_unreadable_event_payload_names_the_file(tmp_path: Path) -> None:
    """A broken event payload is an input error naming the file and line."""
    env = _actions_env(tmp_path, {})
    Path(env["GITHUB_EVENT_PATH"]).write_text("{\n  broken")
    with pytest.raises(InputError, match=r"event.json:2"):
        detect_ci(env)


def test_gitlab_ci_context_with_job_token() -> None:
    """GitLab CI variables give project, MR iid, head and the instance URL without /api/v4."""
    env = {
        "GITLAB_CI": "true",
        "CI_API_V4_URL": "https://git.example/gitlab/api/v4",
        "CI_PROJECT_PATH": "group/sub/app",
        "CI_MERGE_REQUEST_IID": "12",
        "CI_COMMIT_SHA": "a" * 40,
        "CI_JOB_URL": "https://git.example/jobs/5",
        "CI_JOB_TOKEN": "job-token-value-1",
    }
    ci = detect_ci(env)
    assert ci is not None
    assert (ci.provider, ci.api_url, ci.repo, ci.number) == (
        "gitlab",
        "https://git.example/gitlab",
        "group/sub/app",
        12,
    )
    target = resolve_target(None, env=env)
    assert target.job_token is True
    assert resolve_target(None, env={**env, "GITLAB_TOKEN": "pat-value-xyz"}).job_token is False


def test_outside_ci_nothing_is_detected() -> None:
    """Without CI variables there is no context, and flags are required."""
    assert detect_ci({}) is None
    with pytest.raises(UsageError, match="--provider"):
        resolve_target(None, env={})


def test_github_output_uses_random_heredoc_delimiters(tmp_path: Path) -> None:
    """Multi-line values are written as heredocs whose delimiter is not in the value."""
    out = tmp_path / "output"
    write_github_output(out, {"verdict": "fail", "summary": "line 1\nline 2"})
    text = out.read_text()
    match = re.search(r"^summary<<(ghadelimiter_[0-9a-f]{32})\nline 1\nline 2\n\1\n", text, re.M)
    assert match is not None
    assert text.startswith("verdict<<ghadelimiter_")
    with pytest.raises(UsageError, match="invalid GitHub output name"):
        write_github_output(out, {"bad name": "x"})


def test_step_summary_stays_within_one_mebibyte(tmp_path: Path) -> None:
    """A 3 MB verdict appended to a non-empty summary keeps the file within 1 MiB."""
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n" * 1000)
    written = append_step_summary(summary, lambda limit: fit("é" * 3_000_000, limit))
    assert written > 0
    assert summary.stat().st_size <= GITHUB_STEP_SUMMARY_LIMIT
