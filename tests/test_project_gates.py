"""The project's own gates: the audit's verdicts, the pre-commit hooks, the self-gating policy."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import yaml

from gatekeeper.policy import load_policy
from tests.conftest import ROOT


def _audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit", ROOT / ".ci" / "audit.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


AUDIT = _audit()


def test_audit_fails_on_a_known_vulnerability() -> None:
    """A locked package with a known advisory fails the audit and is named with its id."""
    report = {
        "dependencies": [
            {"name": "jinja2", "version": "3.1.2", "vulns": [{"id": "GHSA-h5c8-rqwp-cp95"}]},
            {"name": "rich", "version": "15.0.0", "vulns": []},
        ]
    }
    status, sentence = AUDIT.judge(report, "")
    assert status == 1
    assert "jinja2 3.1.2 (GHSA-h5c8-rqwp-cp95)" in sentence


def test_audit_passes_a_clean_lock_and_counts_what_it_audited() -> None:
    """No advisory for any audited package passes, saying how many were audited."""
    report = {"dependencies": [{"name": "rich", "version": "15.0.0", "vulns": []}]}
    assert AUDIT.judge(report, "") == (
        0,
        "pip-audit: no known vulnerabilities in 1 locked packages",
    )


def test_audit_without_a_database_says_so_and_passes() -> None:
    """Offline (refused, or no database knows any package) the audit passes, saying so."""
    status, sentence = AUDIT.judge(
        None, "requests.exceptions.ConnectionError: Max retries exceeded"
    )
    assert status == 0
    assert "no vulnerability database reachable" in sentence
    skipped = {"dependencies": [{"name": "rich", "skip_reason": "Dependency not found"}]}
    assert AUDIT.judge(skipped, "")[0] == 0
    assert "not audited" in AUDIT.judge(skipped, "")[1]


def test_audit_fails_when_pip_audit_itself_breaks() -> None:
    """Any other failure of pip-audit (no report written) fails the audit."""
    assert AUDIT.judge(None, "ERROR: invalid requirement on line 3")[0] == 1


def test_pre_commit_runs_the_same_gates_as_make_test() -> None:
    """The pre-commit config is valid and runs ruff, ruff-format, mypy, check-yaml, end-of-file."""
    config = ROOT / ".pre-commit-config.yaml"
    subprocess.run(
        [str(Path(sys.executable).parent / "pre-commit"), "validate-config", str(config)],
        check=True,
        capture_output=True,
    )
    hooks = {
        hook["id"] for repo in yaml.safe_load(config.read_text())["repos"] for hook in repo["hooks"]
    }
    assert {"ruff", "ruff-format", "mypy", "check-yaml", "end-of-file-fixer"} <= hooks


def test_ci_run_ends_by_gating_its_own_reports() -> None:
    """.ci/run ends by evaluating the suite's JUnit and coverage with the repository's policy."""
    lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.strip()]
    command = " ".join(lines[-2:])
    assert "gatekeeper evaluate --policy .ci/policy.yml" in command
    assert "--report build/junit.xml --report build/coverage.xml" in command
    policy = load_policy(ROOT / ".ci" / "policy.yml")
    assert {rule.spec.id for rule in policy.rules} >= {"tests-green", "line-coverage", "suite-ran"}
