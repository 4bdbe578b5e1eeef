"""Helpers of the end-to-end tests: the real `gatekeeper` command, simulated CI runs, the API."""

from __future__ import annotations

import base64
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.cli import run_gatekeeper
from tests.connectors.conftest import FAST_RETRIES
from tests.fakes.github import FakeGitHub
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.oidc import GITLAB_CLAIMS, FakeOidcIssuer

PROVIDER_TOKEN = "ghp_e2eS3cr3tT0kenValue0123456789"
PROJECTS = ("octo/app", "group/app", "example/shop")
AUDIENCE = "gatekeeper"  # the CLI's default ID-token audience, configured on the service
EXAMPLES = Path(__file__).resolve().parents[2] / "gatekeeper" / "data" / "examples"
FAST = {
    **FAST_RETRIES,
    "GATEKEEPER_SUBMIT_RETRIES": "2",
    "GATEKEEPER_SUBMIT_BACKOFF": "0.01",
}
POLICY = """\
version: 1
name: release-gate
rules:
  - id: tests-green
    title: All tests pass
    expr: tests.failed + tests.errors == 0
    clause: "8.6"
  - id: approved
    title: Approved on the head commit
    metric: reviews.approvals
    op: ">="
    threshold: 1
    clause: "8.6"
"""


@dataclass(frozen=True)
class Evidence:
    """A running evidence service with an ingest and a read token made by the real CLI."""

    url: str
    ingest: str
    read: str
    env: dict[str, str]
    github_oidc: FakeOidcIssuer | None = None
    gitlab_oidc: FakeOidcIssuer | None = None

    def github_id_token_env(self, repo: str) -> dict[str, str]:
        """What GitHub Actions gives a job with `permissions: id-token: write` in `repo`."""
        assert self.github_oidc is not None, "this service trusts no GitHub issuer"
        return self.github_oidc.github_job(
            repository=repo, sub=f"repo:{repo}:pull_request", workflow_ref=f"{repo}/.github/ci.yml"
        )

    def gitlab_id_token_env(self, project: str) -> dict[str, str]:
        """What GitLab CI gives a job with `id_tokens: GATEKEEPER_ID_TOKEN: aud: gatekeeper`."""
        assert self.gitlab_oidc is not None, "this service trusts no GitLab issuer"
        claims = {**GITLAB_CLAIMS, "project_path": project, "sub": f"project_path:{project}"}
        return {"GATEKEEPER_ID_TOKEN": self.gitlab_oidc.mint(claims, audience=AUDIENCE)}

    def get(self, path: str, **params: str) -> httpx.Response:
        """GET `path` with the read token."""
        return httpx.get(
            f"{self.url}{path}",
            params=params,
            headers={"Authorization": f"Bearer {self.read}"},
            timeout=30,
        )


def gatekeeper(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Runs the real `gatekeeper` command in a subprocess with `env` on top of the test's own."""
    return run_gatekeeper(*args, env={**FAST, **env}, cwd=cwd, timeout=timeout)


def create_token(service_env: dict[str, str], cwd: Path, scope: str) -> str:
    """A token of `scope` for the test projects, from `gatekeeper tokens create` (last line)."""
    projects = [arg for project in PROJECTS for arg in ("--project", project)]
    result = gatekeeper("tokens", "create", *projects, "--scope", scope, env=service_env, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def policy_file(folder: Path) -> Path:
    """The test policy (tests green and one approval) written into `folder`."""
    path = folder / "policy.yml"
    path.write_text(POLICY)
    return path


def github_pull_request_run(fake: FakeGitHub, folder: Path) -> dict[str, str]:
    """The variables and event payload file GitHub Actions sets in a pull_request run."""
    event = folder / "event.json"
    payload = {
        "action": "synchronize",
        "number": fake.number,
        "pull_request": {
            "number": fake.number,
            "head": {"sha": fake.head, "ref": fake.head_ref},
            "base": {"ref": "main"},
        },
        "repository": {"full_name": fake.repo},
    }
    event.write_text(json.dumps(payload))
    runner_temp = folder / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    return {
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_API_URL": fake.url,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": fake.repo,
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_SHA": "f" * 40,
        "GITHUB_REF": f"refs/pull/{fake.number}/merge",
        "GITHUB_HEAD_REF": fake.head_ref,
        "GITHUB_BASE_REF": "main",
        "GITHUB_ACTOR": "octocat",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_WORKFLOW": "ci",
        "GITHUB_STEP_SUMMARY": str(folder / "step-summary.md"),
        "GITHUB_OUTPUT": str(folder / "github-output"),
        "GITHUB_TOKEN": PROVIDER_TOKEN,
        "RUNNER_TEMP": str(runner_temp),
    }


def gitlab_merge_request_pipeline(fake: FakeGitLab) -> dict[str, str]:
    """The predefined variables of a GitLab merge request pipeline job."""
    return {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_SERVER_URL": fake.server_url,
        "CI_API_V4_URL": fake.url,
        "CI_PROJECT_PATH": fake.repo,
        "CI_MERGE_REQUEST_IID": str(fake.number),
        "CI_COMMIT_SHA": fake.head,
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_JOB_URL": "https://git.example/group/app/-/jobs/99",
        "GITLAB_USER_LOGIN": "reprazent",
        "GITLAB_TOKEN": PROVIDER_TOKEN,
    }


def github_outputs(path: Path) -> dict[str, str]:
    """The name -> value pairs of a `$GITHUB_OUTPUT` file (heredoc and `name=value` forms)."""
    values: dict[str, str] = {}
    lines = iter(path.read_text().splitlines())
    for line in lines:
        if "<<" in line:
            name, delimiter = line.split("<<", 1)
            body: list[str] = []
            for inner in lines:
                if inner == delimiter:
                    break
                body.append(inner)
            values[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
    return values


def stored_record(evidence: Evidence, record_id: str) -> dict[str, Any]:
    """The record from GET /v1/evidence/{id}, with its statement decoded."""
    response = evidence.get(f"/v1/evidence/{record_id}")
    assert response.status_code == 200, response.text
    record: dict[str, Any] = response.json()
    record["statement"] = json.loads(base64.b64decode(record["envelope"]["payload"]))
    return record


def auditor_page(evidence: Evidence, path: str, **params: str) -> str:
    """The HTML of an auditor page, read as a browser does: sign in with the read token at
    /ui/login (the session cookie kept), then GET `path`."""
    with httpx.Client(base_url=evidence.url, timeout=30) as browser:
        login = browser.post("/ui/login", data={"token": evidence.read})
        assert login.status_code == 303, login.text
        page = browser.get(path, params=params)
        assert page.status_code == 200, page.text
        return page.text


def export_and_verify(evidence: Evidence, project: str, folder: Path) -> str:
    """Saves GET /v1/export for `project` and returns `gatekeeper verify`'s output (exit 0)."""
    response = evidence.get("/v1/export", project=project)
    assert response.status_code == 200, response.text
    bundle = folder / "bundle.zip"
    bundle.write_bytes(response.content)
    published = evidence.get("/v1/keys")
    assert published.status_code == 200, published.text
    keys = folder / "service-keys.pem"
    keys.write_text("".join(key["public_key_pem"] for key in published.json()["keys"]))
    result = gatekeeper("verify", str(bundle), "--keys", str(keys), env={}, cwd=folder)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout
