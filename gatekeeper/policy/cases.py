"""Policy test cases kept beside a policy (`gatekeeper policy test DIR`), the way `opa test` works.

A case file is any `*_test.yml` under DIR::

    policy: ../pull-request.yml        # relative to this file, or a ready policy name
    now: 2026-06-01T00:00:00Z          # optional clock for every case (waiver expiry)
    cases:
      - name: a green change passes
        facts: {tests: {total: 3, passed: 3, failed: 0, errors: 0, skipped: 0}}
        # or facts_file: facts/green.json (relative to this file)
        expect:
          verdict: pass                # optional
          rules: {tests-green: pass}   # optional: rule id -> expected outcome
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gatekeeper.errors import InputError, PolicyError
from gatekeeper.facts import Facts
from gatekeeper.policy._build import unknown_rule_hint
from gatekeeper.policy._yaml import Positions, read_yaml, validate
from gatekeeper.policy.evaluate import evaluate
from gatekeeper.policy.load import LoadedPolicy, load_policy
from gatekeeper.policy.problems import raise_problems
from gatekeeper.policy.verdict import Outcome, Verdict

CASE_GLOB = "*_test.yml"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Expect(_Frozen):
    """What a case expects: the verdict and/or some rules' outcomes."""

    verdict: Literal["pass", "fail"] | None = None
    rules: dict[str, Outcome] = Field(default_factory=dict)


class Case(_Frozen):
    """Facts (inline or from a file) and what the policy must say about them."""

    name: str = Field(min_length=1)
    facts: dict[str, Any] | None = None
    facts_file: str | None = None
    now: dt.datetime | None = None
    expect: Expect


class CaseFile(_Frozen):
    """A file of cases for one policy."""

    policy: str
    now: dt.datetime | None = None
    cases: tuple[Case, ...] = Field(min_length=1)


@dataclass(frozen=True)
class CaseResult:
    """One case run: where it is, its name, and what did not match (empty when it passed)."""

    file: str
    name: str
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """Whether the policy said what the case expects."""
        return not self.problems


def _facts(case: Case, folder: Path, source: str) -> Facts:
    data = case.facts
    if case.facts_file is not None:
        path = folder / case.facts_file
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise InputError(source, f"case '{case.name}': cannot read {path}: {error}") from error
    try:
        return Facts.model_validate(data or {})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InputError(source, f"case '{case.name}': facts {where}: {first['msg']}") from error


def _compare(verdict: Verdict, expect: Expect) -> tuple[str, ...]:
    problems: list[str] = []
    if expect.verdict is not None and verdict.verdict != expect.verdict:
        problems.append(f"verdict: expected {expect.verdict}, got {verdict.verdict}")
    by_id = {rule.id: rule for rule in verdict.rules}
    for rule_id, outcome in expect.rules.items():
        got = by_id.get(rule_id)
        if got is None:
            problems.append(f"rule {rule_id}: no such rule in policy {verdict.policy.name}")
        elif got.outcome != outcome:
            problems.append(
                f"rule {rule_id}: expected {outcome}, got {got.outcome} ({got.message})"
            )
    return tuple(problems)


def _check_rule_ids(
    spec: CaseFile, policy: LoadedPolicy, source: str, positions: Positions
) -> None:
    """Every rule a case expects exists in the policy; each unknown id is a problem at its key."""
    rule_ids = [rule.spec.id for rule in policy.rules]
    problems: list[PolicyError] = []
    for index, case in enumerate(spec.cases):
        for rule_id in case.expect.rules:
            if rule_id in rule_ids:
                continue
            mark = positions.of(("cases", index, "expect", "rules", rule_id), key=True)
            problems.append(
                PolicyError(
                    source,
                    f"case '{case.name}' expects unknown rule '{rule_id}' of policy "
                    f"{policy.name}{unknown_rule_hint(rule_id, rule_ids)}",
                    line=mark.line if mark else None,
                    column=mark.column if mark else None,
                )
            )
    raise_problems(problems)


def run_case_file(path: Path, *, now: dt.datetime) -> list[CaseResult]:
    """Run every case of one case file; `now` is the clock when the file sets none."""
    source = str(path)
    raw, positions = read_yaml(source, path.read_text(encoding="utf-8"))
    spec = validate(CaseFile, raw, source, positions)
    policy_path = path.parent / spec.policy
    policy = load_policy(policy_path if policy_path.is_file() else spec.policy)
    _check_rule_ids(spec, policy, source, positions)
    results: list[CaseResult] = []
    for case in spec.cases:
        when = case.now or spec.now or now
        verdict = evaluate(policy, _facts(case, path.parent, source), now=when)
        results.append(CaseResult(source, case.name, _compare(verdict, case.expect)))
    return results


def run_cases(folder: Path, *, now: dt.datetime) -> list[CaseResult]:
    """Run every `*_test.yml` under `folder` (sorted); no case files is an error."""
    files = sorted(folder.rglob(CASE_GLOB)) if folder.is_dir() else []
    if not files:
        raise PolicyError(folder, f"no policy test files ({CASE_GLOB}) found")
    results: list[CaseResult] = []
    for path in files:
        results.extend(run_case_file(path, now=now))
    return results
