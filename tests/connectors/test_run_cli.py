"""`collect --run` and `evaluate --from-run` as the real command against the fakes."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli import run_gatekeeper
from tests.connectors.conftest import FAST_RETRIES, TOKEN, gate_policy
from tests.connectors.test_run_artifacts import reports_zip, zipped
from tests.fakes.github import BlobStore, FakeGitHub, RunArtifacts

RUN = 4242


@pytest.fixture
def runs(fake_github: FakeGitHub) -> Iterator[RunArtifacts]:
    """Run RUN of the fake's pull request, its downloads on a blob store on another port."""
    with BlobStore() as blobs:
        found = RunArtifacts(fake_github, blobs)
        found.add_run(RUN)
        yield found


def _gk(fake: FakeGitHub, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**FAST_RETRIES, "GITHUB_TOKEN": TOKEN}
    return run_gatekeeper(
        *args, "--provider", "github", "--api-url", fake.url, "--repo", fake.repo, env=env
    )


def test_collect_run_prints_the_reports_and_the_prs_reviews(
    fake_github: FakeGitHub, runs: RunArtifacts
) -> None:
    """`collect --run` gives the artifact's tests and coverage beside the PR's reviews."""
    fake_github.add_review("bob", "APPROVED")
    runs.add_artifact(RUN, "gate-input", reports_zip())
    result = _gk(
        fake_github, "collect", "--run", str(RUN), "--artifact", "gate-*", "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    assert facts["tests"]["total"] > 0
    assert facts["coverage"]["lines_valid"] > 0
    assert facts["reviews"]["approvers"] == ["bob"]
    assert facts["subject"]["commit"] == fake_github.head
    assert runs.blobs.authorization_headers() == []


def test_evaluate_from_run_fails_closed_on_an_expired_artifact(
    fake_github: FakeGitHub, runs: RunArtifacts, tmp_path: Path
) -> None:
    """An expired artifact is no empty pass: a rule on tests fails and says the artifact expired."""
    fake_github.add_review("bob", "APPROVED")
    runs.add_artifact(RUN, "gate-input", reports_zip(), expired=True)
    policy = tmp_path / "policy.yml"
    policy.write_text(
        gate_policy("run-gate")
        + "  - id: tests-green\n    title: Tests green\n    expr: tests.failed == 0\n"
    )
    result = _gk(
        fake_github, "evaluate", "--policy", str(policy), "--from-run", str(RUN),
        "--no-feedback", "--format", "json",
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    rules = {r["id"]: r for r in json.loads(result.stdout)["rules"]}
    assert rules["tests-green"]["outcome"] == "fail"
    assert "expired" in rules["tests-green"]["message"]


def test_zip_bomb_artifact_is_bad_input_with_one_line(
    fake_github: FakeGitHub, runs: RunArtifacts, tmp_path: Path
) -> None:
    """A zip bomb in the run's artifact ends the command with exit 2 and a sentence."""
    runs.add_artifact(RUN, "gate-input", zipped({"junit.xml": b"<" + b"a" * 20_000_000}))
    result = _gk(fake_github, "collect", "--run", str(RUN))
    assert result.returncode == 2
    assert "compression ratio" in result.stderr
    assert "Traceback" not in result.stderr


def test_from_run_refuses_a_pr_whose_head_is_not_the_runs(
    fake_github: FakeGitHub, runs: RunArtifacts, tmp_path: Path
) -> None:
    """--pr naming a PR whose head is another commit than the run's is refused (exit 2)."""
    runs.add_artifact(RUN, "gate-input", reports_zip())
    runs.runs[RUN]["head_sha"] = "d" * 40
    result = _gk(fake_github, "collect", "--run", str(RUN), "--pr", str(fake_github.number))
    assert result.returncode == 2
    assert "the run's reports are not about this pull request's head" in result.stderr
