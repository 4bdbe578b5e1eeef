"""`gatekeeper policy test`: case files beside a policy, like `opa test`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from gatekeeper.errors import InputError, PolicyError
from gatekeeper.policy.cases import run_cases
from gatekeeper.policy.problems import PolicyProblemsError
from tests.policy._helpers import NOW, write

POLICY = """\
version: 1
name: t
rules:
  - id: green
    title: Green
    metric: tests.failed
    op: "=="
    threshold: 0
waivers:
  - rule: green
    reason: known flake
    approved_by: qa
    expires: 2026-03-01
"""


def test_cases_pass_and_fail_with_reasons(tmp_path: Path) -> None:
    """A case whose expectation does not hold is reported with what differed."""
    write(tmp_path, POLICY)
    write(
        tmp_path,
        """\
    policy: policy.yml
    now: 2026-02-01T00:00:00Z
    cases:
      - name: waived before expiry
        facts: {tests: {total: 1, passed: 0, failed: 1, errors: 0, skipped: 0}}
        expect: {verdict: pass, rules: {green: waived}}
      - name: wrong expectation
        now: 2026-04-01T00:00:00Z
        facts: {tests: {total: 1, passed: 0, failed: 1, errors: 0, skipped: 0}}
        expect: {verdict: pass}
    """,
        "green_test.yml",
    )
    results = run_cases(tmp_path, now=NOW)
    assert [r.passed for r in results] == [True, False]
    assert results[1].problems == ("verdict: expected pass, got fail",)


def test_facts_file_case(tmp_path: Path) -> None:
    """A case may read its facts from a JSON file beside it."""
    write(tmp_path, POLICY)
    (tmp_path / "green.json").write_text(
        '{"tests": {"total": 1, "passed": 1, "failed": 0, "errors": 0, "skipped": 0}}',
        encoding="utf-8",
    )
    write(
        tmp_path,
        "policy: policy.yml\ncases:\n  - name: ok\n    facts_file: green.json\n"
        "    expect: {rules: {green: pass}}\n",
        "x_test.yml",
    )
    results = run_cases(tmp_path, now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert results[0].passed


def test_unknown_rule_ids_in_cases_suggest_the_closest(tmp_path: Path) -> None:
    """Every case expecting a rule the policy lacks is reported at its key, with did-you-mean."""
    write(tmp_path, POLICY)
    write(
        tmp_path,
        "policy: policy.yml\ncases:\n  - name: ok\n    facts: {}\n"
        "    expect: {rules: {gren: pass}}\n  - name: two\n    facts: {}\n"
        "    expect: {rules: {nosuch: pass}}\n",
        "x_test.yml",
    )
    with pytest.raises(PolicyProblemsError) as caught:
        run_cases(tmp_path, now=NOW)
    lines = [str(problem) for problem in caught.value.problems]
    assert lines[0].endswith(
        "x_test.yml:5:22: case 'ok' expects unknown rule 'gren' of policy t; did you mean green?"
    )
    assert lines[1].endswith(
        "x_test.yml:8:22: case 'two' expects unknown rule 'nosuch' of policy t; rules: green"
    )


def test_bad_case_file_and_empty_folder(tmp_path: Path) -> None:
    """A case file with an unknown key and a folder without cases are errors."""
    with pytest.raises(PolicyError, match="no policy test files"):
        run_cases(tmp_path, now=NOW)
    write(tmp_path, POLICY)
    write(
        tmp_path,
        "policy: policy.yml\ncases:\n  - name: x\n    expect: {}\n    fact: {}\n",
        "bad_test.yml",
    )
    with pytest.raises(InputError, match=r"bad_test.yml:5:5: unknown field 'fact'"):
        run_cases(tmp_path, now=NOW)


def test_bad_case_facts(tmp_path: Path) -> None:
    """Case facts that are not valid Facts, or a facts file that is missing, name the case."""
    write(tmp_path, POLICY)
    write(
        tmp_path,
        "policy: policy.yml\ncases:\n  - name: neg\n    facts: {tests: {total: -1}}\n"
        "    expect: {}\n",
        "neg_test.yml",
    )
    with pytest.raises(InputError, match=r"case 'neg': facts tests\.total"):
        run_cases(tmp_path, now=NOW)
    write(
        tmp_path,
        "policy: policy.yml\ncases:\n  - name: gone\n    facts_file: nope.json\n    expect: {}\n",
        "neg_test.yml",
    )
    with pytest.raises(InputError, match="case 'gone': cannot read"):
        run_cases(tmp_path, now=NOW)
