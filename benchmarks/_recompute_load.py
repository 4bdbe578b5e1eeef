"""Statements that the service re-evaluates (carried policy document), and the in-process cost
of that re-evaluation per statement."""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path
from typing import Any

from gatekeeper.attest.predicate import read_predicate
from gatekeeper.cli._submit import statement as build_statement
from gatekeeper.config import Settings
from gatekeeper.facts import Coverage, Facts, Reviews, Subject, TestSummary
from gatekeeper.policy import evaluate, load_policy
from gatekeeper.policy.recompute import policy_document
from gatekeeper.service.recheck import recheck_verdict

POLICY = """\
version: 1
name: release
rules:
  - id: tests-green
    expr: tests.failed + tests.errors == 0
  - id: line-coverage
    metric: coverage.line_rate
    op: ">="
    threshold: 0.8
  - id: four-eyes
    metric: reviews.approvals
    op: ">="
    threshold: 2
  - id: no-skips
    expr: tests.skipped <= 5
    severity: warn
waivers:
  - rule: four-eyes
    reason: release train, ticket QA-7
    approved_by: qa-lead
    expires: 2099-12-31
"""


class RecomputedStatements:
    """`make(n)`: a statement about commit n, evaluated now, carrying its policy document."""

    def __init__(self) -> None:
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "policy.yml"
            path.write_text(POLICY, encoding="utf-8")
            self._loaded = load_policy(path)
        self._document = policy_document(self._loaded)

    def make(self, n: int) -> dict[str, Any]:
        """The statement of commit `n` (distinct content per n)."""
        facts = Facts(
            subject=Subject(provider="github", repo="acme/widget", commit=f"{n:040x}"),
            tests=TestSummary(total=400, passed=399, failed=0, errors=0, skipped=1),
            coverage=Coverage(lines_valid=5000, lines_covered=4300, line_rate=0.86),
            reviews=Reviews(approvals=1, approvers=("alice",)),
        )
        verdict = evaluate(self._loaded, facts, now=dt.datetime.now(dt.UTC))
        return build_statement(verdict, facts, None, self._document)


def recheck_cost_ms(statements: RecomputedStatements, count: int = 2000) -> float:
    """Milliseconds the service spends re-evaluating one statement (in process, mean)."""
    settings = Settings()
    predicates = []
    for n in range(count):
        stated = statements.make(n)
        predicates.append(read_predicate(stated["predicateType"], stated["predicate"]))
    started = time.perf_counter()
    for predicate in predicates:
        assert recheck_verdict(settings, predicate)
    return (time.perf_counter() - started) * 1000 / count
