"""End to end: the fork-safe `workflow_run` pattern of docs/github.md with `--from-run`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.connectors.test_run_artifacts import reports_zip
from tests.e2e._harness import (
    PROVIDER_TOKEN,
    Evidence,
    create_token,
    gatekeeper,
    github_outputs,
    github_pull_request_run,
    policy_file,
    stored_record,
)
from tests.fakes.github import BlobStore, FakeGitHub, RunArtifacts
from tests.service.live import start_service

RUN = 5151


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """A fake GitHub with one pull request from a fork, approved by bob."""
    with FakeGitHub(token=PROVIDER_TOKEN) as fake:
        fake.add_review("bob", "APPROVED")
        yield fake


@pytest.fixture
def runs(fake_github: FakeGitHub) -> Iterator[RunArtifacts]:
    """Phase 1 happened: the untrusted run RUN of the fork's head uploaded `gate-input`."""
    with BlobStore() as blobs:
        found = RunArtifacts(fake_github, blobs)
        found.add_run(RUN, fork="mallory")
        yield found


def _phase_two(fake: FakeGitHub, folder: Path) -> dict[str, str]:
    """The variables of the trusted `workflow_run` job: default branch, write token, secrets."""
    env = github_pull_request_run(fake, folder)
    event = folder / "workflow-run-event.json"
    payload = {
        "action": "completed",
        "workflow_run": {
            "id": RUN,
            "event": "pull_request",
            "head_sha": fake.head,
            "head_branch": fake.head_ref,
            "pull_requests": [],  # GitHub lists none for a fork's run
        },
        "repository": {"full_name": fake.repo},
    }
    event.write_text(json.dumps(payload))
    for name in ("GITHUB_HEAD_REF", "GITHUB_BASE_REF"):
        env.pop(name)
    return env | {
        "GITHUB_EVENT_NAME": "workflow_run",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_SHA": "e" * 40,  # the default branch's commit: what the trusted job checks out
        "GITHUB_RUN_ID": "5152",
    }


def test_workflow_run_phase_two_gates_reports_from_the_run_and_stores(
    fake_github: FakeGitHub, runs: RunArtifacts, evidence: Evidence, tmp_path: Path
) -> None:
    """Phase 2 reads the reports from the first run's artifact through the API (no
    download-artifact, no PR code), gates the fork PR's head, writes feedback there and stores
    the evidence; the blob store never sees the token."""
    runs.add_artifact(RUN, "gate-input", reports_zip("failing"))
    env = {**_phase_two(fake_github, tmp_path), **evidence.github_id_token_env(fake_github.repo)}
    result = gatekeeper(
        "evaluate", "--policy", str(policy_file(tmp_path)), "--provider", "github",
        "--from-run", str(RUN), "--artifact", "gate-input", "--submit", evidence.url,
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr  # the failing example reports fail the gate
    [status] = fake_github.created_statuses
    assert (status["state"], status["sha"]) == ("failure", fake_github.head)
    [comment] = fake_github.comments
    assert "All tests pass" in comment["body"]
    assert runs.blobs.authorization_headers() == []
    assert runs.blobs.count("GET", "/blobs/") == 1
    outputs = github_outputs(tmp_path / "github-output")
    record = stored_record(evidence, outputs["record-id"])
    facts = record["statement"]["predicate"]["facts"]
    assert facts["subject"]["commit"] == fake_github.head
    assert facts["subject"]["number"] == fake_github.number
    assert facts["reviews"]["approvers"] == ["bob"]
    assert facts["tests"]["failed"] > 0
    assert any("gate-input" in s["location"] for s in facts["sources"])
    assert not (tmp_path / "gate-input").exists()
    assert PROVIDER_TOKEN not in result.stdout + result.stderr


def test_workflow_run_with_an_expired_artifact_fails_closed(
    fake_github: FakeGitHub, runs: RunArtifacts, evidence: Evidence, tmp_path: Path
) -> None:
    """When the first run's artifact expired, the tests rule fails saying so: no empty pass."""
    runs.add_artifact(RUN, "gate-input", reports_zip(), expired=True)
    env = _phase_two(fake_github, tmp_path)
    result = gatekeeper(
        "evaluate", "--policy", str(policy_file(tmp_path)), "--provider", "github",
        "--from-run", str(RUN), "--format", "json", "--no-feedback",
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    rules = {r["id"]: r for r in json.loads(result.stdout)["rules"]}
    assert rules["tests-green"]["outcome"] == "fail"
    assert "expired" in rules["tests-green"]["message"]


@pytest.fixture
def confirming(fake_github: FakeGitHub, tmp_path: Path) -> Iterator[Evidence]:
    """A real service process that confirms reviews with the fake GitHub (its own token)."""
    token_file = tmp_path / "service-github-token"
    token_file.write_text(PROVIDER_TOKEN)
    access = [{"provider": "github", "api_url": fake_github.url, "token_file": str(token_file)}]
    providers = {"GATEKEEPER_PROVIDERS": json.dumps(access)}
    with start_service(tmp_path / "confirming", extra_env=providers) as service:
        yield Evidence(
            url=service.url,
            ingest=create_token(service.env, tmp_path, "ingest"),
            read=create_token(service.env, tmp_path, "read"),
            env=service.env,
        )


def test_the_service_confirms_the_reviews_and_refuses_a_fabricated_approver(
    fake_github: FakeGitHub, runs: RunArtifacts, confirming: Evidence, tmp_path: Path
) -> None:
    """Phase 2's record says the reviews were confirmed with GitHub; facts claiming an approver
    GitHub does not show are refused, naming them, and nothing is stored."""
    runs.add_artifact(RUN, "gate-input", reports_zip())
    env = {**_phase_two(fake_github, tmp_path), "GATEKEEPER_TOKEN": confirming.ingest}
    args = ["evaluate", "--policy", str(policy_file(tmp_path)), "--provider", "github"]
    args += ["--from-run", str(RUN), "--submit", confirming.url]
    reviews_before = fake_github.count("GET", "/reviews")
    result = gatekeeper(*args, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    record = stored_record(confirming, github_outputs(tmp_path / "github-output")["record-id"])
    confirmed = record["statement"]["predicate"]["confirmed"]["reviews"]
    assert (confirmed["status"], confirmed["by"]) == ("confirmed", f"github at {fake_github.url}")
    assert fake_github.count("GET", "/reviews") - reviews_before == 2  # the CLI's and the service's
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({"reviews": {"approvals": 2, "approvers": ["bob", "mallory"]}}))
    result = gatekeeper(*args, "--facts", str(forged), env=env, cwd=tmp_path)
    assert result.returncode == 3
    assert "approver 'mallory'" in result.stderr
