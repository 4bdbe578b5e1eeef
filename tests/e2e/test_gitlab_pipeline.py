"""End to end: a simulated GitLab merge request pipeline, the fake GitLab, a real service."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.e2e._harness import (
    EXAMPLES,
    FAST,
    PROVIDER_TOKEN,
    Evidence,
    export_and_verify,
    gatekeeper,
    gitlab_merge_request_pipeline,
    policy_file,
    stored_record,
)
from tests.fakes.gitlab import FakeGitLab

TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "gatekeeper.yml"


def test_failing_merge_request_is_gated_reported_stored_and_verified(
    evidence: Evidence, tmp_path: Path
) -> None:
    """Exit 1 on a failing report; MR note, status and dotenv written; the record verifies."""
    with FakeGitLab(token=PROVIDER_TOKEN) as fake:
        fake.approve("reprazent")
        env = {
            **gitlab_merge_request_pipeline(fake),
            **evidence.gitlab_id_token_env(fake.repo),  # `id_tokens: GATEKEEPER_ID_TOKEN:`
        }
        result = gatekeeper(
            "evaluate", "--policy", str(policy_file(tmp_path)),
            "--report", str(EXAMPLES / "failing" / "junit.xml"), "--submit", evidence.url,
            env=env, cwd=tmp_path,
        )  # fmt: skip
        assert result.returncode == 1, result.stderr
        [note] = fake.notes
        [status] = fake.statuses
        head, repo = fake.head, fake.repo
    assert note["body"].startswith("<!-- gatekeeper:release-gate -->")
    assert (status["name"], status["state"]) == ("gatekeeper/release-gate", "failed")
    dotenv = dict(
        line.split("=", 1) for line in (tmp_path / "gatekeeper.env").read_text().splitlines()
    )
    assert dotenv["GATEKEEPER_VERDICT"] == "fail"
    record = stored_record(evidence, dotenv["GATEKEEPER_RECORD_ID"])
    assert record["project"] == repo
    assert record["statement"]["subject"][0]["digest"]["gitCommit"] == head
    ci = record["statement"]["predicate"]["run"]
    assert ci == {
        "provider": "gitlab",
        "run_url": "https://git.example/group/app/-/jobs/99",
        "actor": "reprazent",
        "event": "merge_request_event",
    } | ({"ref": ci["ref"]} if "ref" in ci else {})
    submitter = record["statement"]["predicate"]["submitter"]
    assert (submitter["kind"], submitter["claims"]["project_path"]) == ("oidc", repo)
    assert submitter["claims"]["pipeline_id"] == "991"
    assert export_and_verify(evidence, repo, tmp_path).startswith("OK: ")
    assert PROVIDER_TOKEN not in result.stdout + result.stderr


def test_component_job_script_writes_verdict_and_record_id(
    evidence: Evidence, tmp_path: Path
) -> None:
    """The job script of templates/gatekeeper.yml, run in sh, stores the evidence and fills
    the dotenv report with the verdict and the record id."""
    documents = list(yaml.safe_load_all(TEMPLATE.read_text()))
    script = "\n".join(documents[1]["gatekeeper"]["script"])
    with FakeGitLab(token=PROVIDER_TOKEN) as fake:
        fake.approve("reprazent")
        env = {
            **os.environ,
            **FAST,
            **gitlab_merge_request_pipeline(fake),
            "GK_POLICY": str(policy_file(tmp_path)),
            "GK_REPORTS": str(EXAMPLES / "passing" / "junit.xml"),
            "GK_SUBMIT_URL": evidence.url,
            "GK_PACKAGE": "gatekeeper-evidence",
            **evidence.gitlab_id_token_env(fake.repo),
            "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
        }
        result = subprocess.run(
            ["sh", "-e", "-c", script],
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,
            env=env,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        [status] = fake.statuses
    assert status["state"] == "success"
    dotenv = dict(
        line.split("=", 1) for line in (tmp_path / "gatekeeper.env").read_text().splitlines()
    )
    assert dotenv["GATEKEEPER_VERDICT"] == "pass"
    record = stored_record(evidence, dotenv["GATEKEEPER_RECORD_ID"])
    assert record["statement"]["predicate"]["verdict"] == "pass"
