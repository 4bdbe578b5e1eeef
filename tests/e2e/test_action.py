"""The composite action's gate script (from action.yml) in bash, in a simulated Actions run."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e._harness import (
    EXAMPLES,
    FAST,
    PROVIDER_TOKEN,
    Evidence,
    github_outputs,
    github_pull_request_run,
    stored_record,
)
from tests.fakes.github import FakeGitHub

ACTION = Path(__file__).resolve().parents[2] / "action.yml"


def _gate_script() -> str:
    """The `run:` body of the action's step with id `gate`."""
    action: dict[str, Any] = yaml.safe_load(ACTION.read_text())
    [step] = [step for step in action["runs"]["steps"] if step.get("id") == "gate"]
    script = str(step["run"])
    assert "${{" not in script, "inputs reach the script only through env"
    return script


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """A running fake GitHub with one approved pull request."""
    with FakeGitHub(token=PROVIDER_TOKEN) as fake:
        fake.add_review("bob", "APPROVED")
        yield fake


def test_action_script_sets_verdict_record_id_and_summary_path(
    fake_github: FakeGitHub, evidence: Evidence, tmp_path: Path
) -> None:
    """With fail-on never and comment off, a failing gate passes the step and sets every output."""
    failing = EXAMPLES / "failing"
    inputs = {
        "GK_POLICY": "iso9001-release",
        "GK_REPORTS": f"{failing / 'junit.xml'}\n\n{failing / 'coverage.xml'}\n",
        "GK_SUBMIT_URL": evidence.url,
        "GK_COMMENT": "off",
        "GK_FAIL_ON": "never",
    }
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        **FAST,
        **github_pull_request_run(fake_github, tmp_path),
        **evidence.github_id_token_env(fake_github.repo),  # `permissions: id-token: write`
        **inputs,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
    }
    result = subprocess.run(
        ["bash", "-e", "-c", _gate_script()],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "::notice title=Gatekeeper::the gate failed" in result.stdout
    outputs = github_outputs(tmp_path / "github-output")
    assert outputs["verdict"] == "fail"
    assert Path(outputs["summary-path"]) == tmp_path / "runner-temp" / "gatekeeper-verdict.md"
    assert "iso9001-release" in Path(outputs["summary-path"]).read_text()
    record = stored_record(evidence, outputs["record-id"])
    assert record["statement"]["predicate"]["verdict"] == "fail"
    assert fake_github.comments == []
    assert len(fake_github.created_statuses) == 1
