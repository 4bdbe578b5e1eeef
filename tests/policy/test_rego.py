"""Rego rules: deny messages, compile errors at file:line:col, module paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatekeeper.errors import PolicyError
from gatekeeper.policy import load_policy
from tests.policy._helpers import facts, failing_tests, message, outcome, run, write

MODULE = """package gatekeeper.tests

import rego.v1

deny contains msg if {
    some failure in input.tests.failures
    startswith(failure.file, "pkg/")
    msg := sprintf("%s failed in a core package", [failure.name])
}
"""

POLICY = """
version: 1
name: t
rules:
  - id: core-tests
    title: Core tests pass
    rego: rego/core.rego
    clause: "8.6"
"""


def _policy(tmp_path: Path, module: str = MODULE) -> Path:
    (tmp_path / "rego").mkdir()
    (tmp_path / "rego" / "core.rego").write_text(module, encoding="utf-8")
    return write(tmp_path, POLICY)


def test_deny_messages_fail_the_rule(tmp_path: Path) -> None:
    """Every message in the deny set appears in the result; an empty set passes."""
    policy = load_policy(_policy(tmp_path))
    verdict = run(policy, facts(tests=failing_tests(2)))
    assert outcome(verdict, "core-tests") == "fail"
    assert message(verdict, "core-tests") == (
        "test_0 failed in a core package; test_1 failed in a core package"
    )
    assert verdict.rules[0].actual == [
        "test_0 failed in a core package",
        "test_1 failed in a core package",
    ]
    assert outcome(run(policy, facts()), "core-tests") == "pass"


def test_rego_module_is_part_of_the_digest(tmp_path: Path) -> None:
    """Changing the Rego module changes the policy digest."""
    first = load_policy(_policy(tmp_path)).digest
    (tmp_path / "rego" / "core.rego").write_text(MODULE + "\n# changed\n", encoding="utf-8")
    assert load_policy(tmp_path / "policy.yml").digest != first


def test_rego_compile_error_names_module_line_and_column(tmp_path: Path) -> None:
    """A module that does not compile is one line: module file:line:col, rule id, reason."""
    bad = "package gatekeeper.bad\n\ndeny contains msg if {\n    input.tests.failed <\n}\n"
    with pytest.raises(PolicyError) as caught:
        load_policy(_policy(tmp_path, bad))
    text = str(caught.value)
    assert text.startswith(f"{tmp_path / 'rego' / 'core.rego'}:4:24: rule 'core-tests': Rego")
    assert "\n" not in text


def test_rego_unknown_input_fact(tmp_path: Path) -> None:
    """A module reading an input fact that does not exist is rejected with a suggestion."""
    bad = 'package gatekeeper.bad\n\ndeny contains "x" if {\n    input.coverage.linerate < 0.8\n}\n'
    with pytest.raises(PolicyError) as caught:
        load_policy(_policy(tmp_path, bad))
    assert "did you mean coverage.line_rate?" in str(caught.value)
    assert caught.value.line == 4


def test_rego_missing_module_file(tmp_path: Path) -> None:
    """A rego path that does not exist is an error at the rule's rego field."""
    path = write(tmp_path, POLICY)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert (caught.value.line, caught.value.column) == (6, 11)
    assert "cannot read Rego module" in str(caught.value)


def test_rego_missing_fact_fails_closed(tmp_path: Path) -> None:
    """A Rego rule whose input facts are missing fails without running."""
    policy = load_policy(_policy(tmp_path))
    verdict = run(policy, facts(tests=None))
    assert outcome(verdict, "core-tests") == "fail"
    assert "tests.failures is missing" in message(verdict, "core-tests")
