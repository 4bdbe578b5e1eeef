"""Statements the page tests ingest: a passing release, a failing PR with a hostile title."""

from __future__ import annotations

from typing import Any

from connectors.evidence import build_verdict_statement

HOSTILE_TITLE = "Fix <script>alert('x')</script> & friends"
PASS_COMMIT = "a" * 40
FAIL_COMMIT = "b" * 40


def _rules(passing: bool) -> list[dict[str, Any]]:
    return [
        {
            "id": "tests-green",
            "title": "All tests pass",
            "outcome": "pass" if passing else "fail",
            "actual": 0 if passing else 2,
            "expected": "== 0",
            "message": "0 tests failed" if passing else "2 tests failed, none may fail",
            "clause": "8.6",
        },
        {
            "id": "line-coverage",
            "title": "Line coverage",
            "outcome": "pass",
            "actual": 0.87,
            "expected": ">= 0.8",
            "message": "line coverage 87.0 % meets 80 %",
            "clause": "8.3.4",
        },
    ]


def verdict_statement(n: int, *, passing: bool = True, title: str = "Add widget") -> dict[str, Any]:
    """A statement as `gatekeeper evaluate --submit` builds it; `n` makes it unique."""
    commit = (PASS_COMMIT if passing else FAIL_COMMIT)[:-4] + f"{n:04x}"
    verdict = {
        "verdict": "pass" if passing else "fail",
        "policy": {"name": "iso9001-release", "digest": "cd" * 32},
        "rules": _rules(passing),
        "evaluated_at": "2026-06-01T00:00:00Z",
    }
    facts = {
        "subject": {
            "provider": "github",
            "repo": "acme/widget",
            "commit": commit,
            "ref": "refs/heads/main" if passing else "refs/pull/7/merge",
            "number": 7,
            "url": "https://github.example/acme/widget/pull/7",
        },
        "tests": {
            "total": 40,
            "passed": 40 if passing else 38,
            "failed": 0 if passing else 2,
            "errors": 0,
            "skipped": 1,
            "flaky": 0,
            "duration_s": 3.5,
        },
        "coverage": {"lines_valid": 1000, "lines_covered": 870, "line_rate": 0.87},
        "reviews": {"approvals": 2, "approvers": ["alice", "bob"], "changes_requested": 0},
        "checks": {
            "runs": [{"name": "build", "status": "completed", "conclusion": "success"}],
            "failed": [],
        },
        "change": {
            "title": title,
            "branch": "feature/widget",
            "author": "carol",
            "labels": ["release"],
            "linked_issues": ["#12"],
        },
    }
    ci_run = {"provider": "github", "run_url": f"https://ci.example/run/{n}", "actor": "carol"}
    return build_verdict_statement(verdict, facts, ci_run)
