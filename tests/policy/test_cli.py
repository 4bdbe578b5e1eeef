"""The evaluate and policy commands through the real CLI: output formats and exit codes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.cli import run_gatekeeper
from tests.policy._helpers import write

ROOT = Path(__file__).resolve().parents[2]

FACTS = {
    "tests": {
        "total": 10,
        "passed": 8,
        "failed": 2,
        "errors": 0,
        "skipped": 0,
        "failures": [{"name": "test_pay", "classname": "t.test_pay", "message": "boom"}],
    },
    "coverage": {"lines_valid": 100, "lines_covered": 85, "line_rate": 0.85},
}
POLICY = """\
version: 1
name: cli
rules:
  - id: tests-green
    title: Tests green
    expr: tests.failed == 0
    clause: "8.6"
  - id: cov
    title: Coverage
    metric: coverage.line_rate
    op: ">="
    threshold: 0.8
"""


def _in_process(*args: str) -> tuple[int, str]:
    """Run the Typer app in this process (success paths; errors are mapped only by main())."""
    from typer.testing import CliRunner

    from gatekeeper.cli.app import app

    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def _gk(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return run_gatekeeper(*args, cwd=cwd)


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """A policy file and a facts file in a temporary folder."""
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(FACTS), encoding="utf-8")
    return write(tmp_path, POLICY), facts


def test_json_output_shape_and_exit_1(files: tuple[Path, Path]) -> None:
    """A failing gate exits 1 and --format json prints verdict, policy, rules and facts."""
    policy, facts = files
    result = _gk("evaluate", "--policy", str(policy), "--facts", str(facts), "--format", "json")
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert data["verdict"] == "fail"
    assert set(data["policy"]) == {"name", "digest"}
    assert data["policy"]["name"] == "cli"
    first = data["rules"][0]
    assert {"id", "outcome", "actual", "expected", "message", "clause"} <= set(first)
    assert first["outcome"] == "fail"
    assert data["facts"]["tests"]["failed"] == 2


def test_text_output_and_exit_0(files: tuple[Path, Path], tmp_path: Path) -> None:
    """A passing gate exits 0; text output is a table naming each rule; --output writes a file."""
    policy, facts = files
    green = dict(FACTS, tests={"total": 3, "passed": 3, "failed": 0, "errors": 0, "skipped": 0})
    facts.write_text(json.dumps(green), encoding="utf-8")
    code, output = _in_process("evaluate", "--policy", str(policy), "--facts", str(facts))
    assert code == 0, output
    assert "PASS" in output
    assert "tests-green" in output
    out = tmp_path / "verdict.md"
    code, _ = _in_process(
        "evaluate",
        "--policy",
        str(policy),
        "--facts",
        str(facts),
        "--format",
        "markdown",
        "--output",
        str(out),
    )
    assert code == 0
    assert out.read_text(encoding="utf-8").startswith("### ✓ Gatekeeper: **pass**")


@pytest.mark.parametrize(
    ("policy_text", "expected"),
    [
        (
            "version: 1\nname: x\nrules:\n  - id: a\n    title: A\n    metric: coverage.linerate\n"
            "    op: '>='\n    threshold: 0.8\n",
            ":6:13: rule 'a': unknown fact 'coverage.linerate'; did you mean coverage.line_rate?",
        ),
        (
            "version: 1\nname: x\nrules:\n  - id: a\n    title: A\n    expr: tests.failed +\n",
            ":6:25: rule 'a': CEL syntax error",
        ),
    ],
)
def test_bad_policy_is_one_line_and_exit_2(
    files: tuple[Path, Path], tmp_path: Path, policy_text: str, expected: str
) -> None:
    """A bad policy prints one line with file:line:col and exits 2, never a traceback."""
    _, facts = files
    bad = write(tmp_path, policy_text, "bad.yml")
    result = _gk("evaluate", "--policy", str(bad), "--facts", str(facts))
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {bad}{expected}")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_bad_facts_json_is_exit_2(files: tuple[Path, Path]) -> None:
    """Invalid facts JSON is one line naming file:line:col, exit 2."""
    policy, facts = files
    facts.write_text('{"tests": {\n  "total": 1,,\n}', encoding="utf-8")
    result = _gk("evaluate", "--policy", str(policy), "--facts", str(facts))
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {facts}:2:14: invalid JSON")


def test_policy_validate_explain_and_test(files: tuple[Path, Path]) -> None:
    """validate and explain describe a policy; test runs the shipped policy cases."""
    policy, _ = files
    code, output = _in_process("policy", "validate", str(policy))
    assert code == 0
    assert "valid policy cli, 2 rules" in output
    code, output = _in_process("policy", "explain", "iso9001-release")
    assert code == 0
    assert "four-eyes (Two approvals" in output
    assert "approvals (reviews.approvals) must be at least 2" in output
    code, output = _in_process("policy", "test", str(ROOT / "policies" / "tests"))
    assert code == 0, output
    assert "0 failed" in output


def test_evaluate_bundled_example_reports() -> None:
    """The bundled failing example fails the ISO 9001 release policy (exit 1) with a table;
    the passing one passes the local example policy (exit 0)."""
    examples = ROOT / "gatekeeper" / "data" / "examples"
    result = _gk(
        "evaluate",
        "--policy",
        "policies/iso9001-release.yml",
        "--report",
        str(examples / "failing"),
    )
    assert result.returncode == 1, result.stderr
    assert "line coverage 60.0% is below the required 80.0%" in " ".join(result.stdout.split())
    code, output = _in_process(
        "evaluate",
        "--policy",
        str(examples / "local-policy.yml"),
        "--report",
        str(examples / "passing"),
        "--format",
        "json",
    )
    assert code == 0, output
    assert json.loads(output)["facts"]["tests"]["total"] == 6


def test_reports_and_facts_file_combine() -> None:
    """Sections from reports replace those of a facts file; the rest and both sources stay."""
    from gatekeeper.cli.evaluate_cmd import combine
    from gatekeeper.facts import Facts, Reviews, Source, TestSummary

    saved = Facts(
        tests=TestSummary(total=1, passed=1, failed=0, errors=0, skipped=0),
        reviews=Reviews(approvals=2),
        missing={"coverage": "no report", "tests.flaky": "old"},
        sources=(Source(kind="facts-file", location="f.json", format="gatekeeper-facts"),),
    )
    fresh = Facts(
        tests=TestSummary(total=5, passed=5, failed=0, errors=0, skipped=0),
        sources=(Source(kind="report", location="junit.xml", format="junit"),),
    )
    combined = combine(saved, fresh)
    assert combined.tests is not None
    assert combined.tests.total == 5
    assert combined.reviews == saved.reviews
    assert combined.missing == {"coverage": "no report"}
    assert [s.location for s in combined.sources] == ["f.json", "junit.xml"]


def test_expression_over_its_budget_exits_2_naming_the_rule(tmp_path: Path) -> None:
    """A CEL rule that would run for hours over the facts stops the command after the budget
    (GATEKEEPER_EXPRESSION_BUDGET seconds) with one line naming the rule, exit 2."""
    failures = [{"name": f"test_{i}", "message": "x"} for i in range(600)]
    facts = tmp_path / "facts.json"
    tests = {"total": 600, "passed": 0, "failed": 600, "errors": 0, "skipped": 0}
    facts.write_text(json.dumps({"tests": {**tests, "failures": failures}}), encoding="utf-8")
    expr = (
        "tests.failures.all(a, tests.failures.all(b, tests.failures.all(c, "
        "a.name + b.name != c.name)))"
    )
    policy = write(tmp_path, f"version: 1\nname: x\nrules:\n  - id: cubic\n    expr: '{expr}'\n")
    result = run_gatekeeper(
        "evaluate", "--policy", str(policy), "--facts", str(facts),
        env={"GATEKEEPER_EXPRESSION_BUDGET": "0.5"},
    )  # fmt: skip
    assert result.returncode == 2
    assert "rule 'cubic': the expression ran longer than its budget of 0.5 s" in result.stderr
    assert "Traceback" not in result.stderr


def test_policy_validate_lists_every_problem_at_once(tmp_path: Path) -> None:
    """Like ruff, `policy validate` prints one line per problem with file:line:col (an unknown
    field, an unquoted clause, an unknown fact, a waiver for a mistyped rule), then the count."""
    text = """\
version: 1
name: x
rules:
  - id: green
    expr: tests.failed == 0
    clause: 8.6
  - id: cov
    metric: coverage.linerate
    op: '>='
    threshold: 0.8
    treshold: 1
waivers:
  - rule: gren
    reason: flaky
    approved_by: qa
    expires: 2030-01-01
"""
    bad = write(tmp_path, text, "bad.yml")
    result = run_gatekeeper("policy", "validate", str(bad))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0] == (
        f'error: {bad}:6:13: rules[0].clause: YAML read 8.6 as a number; quote it: clause: "8.6"'
    )
    assert lines[1] == (
        f"error: {bad}:11:5: unknown field 'treshold' in rules[1]; did you mean threshold?"
    )
    assert lines[-1] == "Found 2 problems."
    assert "Traceback" not in result.stderr


def test_policy_validate_lists_rule_and_waiver_problems_together(tmp_path: Path) -> None:
    """Problems found while compiling (an unknown fact, a CEL syntax error, a waiver for a
    mistyped rule id) are all listed, each at its place, with did-you-mean."""
    text = """\
version: 1
name: x
rules:
  - id: green
    expr: tests.failed +
  - id: cov
    metric: coverage.linerate
    op: '>='
    threshold: 0.8
waivers:
  - rule: gren
    reason: flaky
    approved_by: qa
    expires: 2030-01-01
"""
    bad = write(tmp_path, text, "bad.yml")
    result = run_gatekeeper("policy", "validate", str(bad))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"error: {bad}:5:")
    assert "rule 'green': CEL syntax error" in lines[0]
    assert lines[1].startswith(f"error: {bad}:7:13: rule 'cov': unknown fact 'coverage.linerate'")
    assert lines[2] == f"error: {bad}:11:11: waiver for unknown rule 'gren'; did you mean green?"
    assert lines[-1] == "Found 3 problems."


def test_policy_validate_lists_shape_and_compile_problems_together(tmp_path: Path) -> None:
    """An unknown key in one rule does not hide the CEL syntax error and the unknown fact of the
    other rules, nor a waiver for a mistyped rule: every problem is one line, then the count."""
    text = """\
version: 1
name: x
rules:
  - id: typo
    expr: tests.failed == 0
    severty: error
  - id: green
    expr: tests.failed +
  - id: cov
    metric: coverage.linerate
    op: '>='
    threshold: 0.8
waivers:
  - rule: typo
    reason: flaky
    approved_by: qa
    expires: 2030-01-01
  - rule: gren
    reason: flaky
    approved_by: qa
    expires: 2030-01-01
"""
    bad = write(tmp_path, text, "bad.yml")
    result = run_gatekeeper("policy", "validate", str(bad))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0] == (
        f"error: {bad}:6:5: unknown field 'severty' in rules[0]; did you mean severity?"
    )
    assert lines[1].startswith(f"error: {bad}:8:")
    assert "rule 'green': CEL syntax error" in lines[1]
    assert lines[2].startswith(f"error: {bad}:10:13: rule 'cov': unknown fact 'coverage.linerate'")
    assert lines[3] == f"error: {bad}:18:11: waiver for unknown rule 'gren'; did you mean green?"
    assert lines[-1] == "Found 4 problems."
    assert "Traceback" not in result.stderr
