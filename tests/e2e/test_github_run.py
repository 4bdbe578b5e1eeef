"""End to end: a simulated GitHub Actions pull_request run, the fake GitHub, a real service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e._harness import (
    EXAMPLES,
    PROVIDER_TOKEN,
    Evidence,
    export_and_verify,
    gatekeeper,
    github_outputs,
    github_pull_request_run,
    policy_file,
    stored_record,
)
from tests.fakes.github import NO_ACCESS, FakeGitHub


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """A running fake GitHub with one pull request, approved by bob."""
    with FakeGitHub(token=PROVIDER_TOKEN) as fake:
        fake.add_review("bob", "APPROVED")
        yield fake


def test_failing_pull_request_is_gated_reported_stored_and_verified(
    fake_github: FakeGitHub, evidence: Evidence, tmp_path: Path
) -> None:
    """Exit 1 on a failing report; comment and status reach GitHub; the record verifies."""
    env = {
        **github_pull_request_run(fake_github, tmp_path),
        **evidence.github_id_token_env(fake_github.repo),  # `permissions: id-token: write`
    }
    result = gatekeeper(
        "evaluate", "--policy", str(policy_file(tmp_path)),
        "--report", str(EXAMPLES / "failing" / "junit.xml"), "--submit", evidence.url,
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    [comment] = fake_github.comments
    assert comment["body"].startswith("<!-- gatekeeper:release-gate -->")
    [status] = fake_github.created_statuses
    assert (status["state"], status["sha"]) == ("failure", fake_github.head)
    outputs = github_outputs(tmp_path / "github-output")
    assert outputs["verdict"] == "fail"
    record = stored_record(evidence, outputs["record-id"])
    assert record["project"] == fake_github.repo
    subject = record["statement"]["subject"][0]
    assert subject["digest"]["gitCommit"] == fake_github.head
    ci = record["statement"]["predicate"]["run"]
    assert ci["run_url"] == "https://github.com/octo/app/actions/runs/4242"
    assert (ci["provider"], ci["actor"]) == ("github", "octocat")
    assert "release-gate" in (tmp_path / "step-summary.md").read_text()
    submitter = record["statement"]["predicate"]["submitter"]
    assert submitter["kind"] == "oidc"
    assert submitter["claims"]["repository"] == fake_github.repo
    assert submitter["claims"]["workflow_ref"] == f"{fake_github.repo}/.github/ci.yml"
    assert evidence.github_oidc is not None
    assert evidence.github_oidc.audience_requests[-1] == "gatekeeper"
    assert export_and_verify(evidence, fake_github.repo, tmp_path).startswith("OK: ")
    assert PROVIDER_TOKEN not in result.stdout + result.stderr
    assert "request-" not in result.stdout + result.stderr


def test_fork_pull_request_read_only_token_still_gates_and_stores(
    fake_github: FakeGitHub, evidence: Evidence, tmp_path: Path
) -> None:
    """A read-only (fork) token: writes become notices, exit by verdict, evidence stored."""
    fake_github.fail(403, body=NO_ACCESS, method="POST", times=None)
    env = {
        **github_pull_request_run(fake_github, tmp_path),
        **evidence.github_id_token_env(fake_github.repo),  # `permissions: id-token: write`
    }
    result = gatekeeper(
        "evaluate", "--policy", str(policy_file(tmp_path)),
        "--report", str(EXAMPLES / "passing" / "junit.xml"), "--submit", evidence.url,
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "::notice title=Gatekeeper feedback::" in result.stderr
    assert fake_github.created_statuses == []
    outputs = github_outputs(tmp_path / "github-output")
    assert outputs["verdict"] == "pass"
    assert stored_record(evidence, outputs["record-id"])["statement"]["predicate"]["verdict"] == (
        "pass"
    )
