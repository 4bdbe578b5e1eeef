"""Verdict statements (predicate v2) with the facts the auditor's workspace reads."""

from __future__ import annotations

from typing import Any

from gatekeeper.attest.predicate import PREDICATE_TYPE
from gatekeeper.attest.statement import STATEMENT_TYPE


def verdict_statement(
    n: int,
    *,
    verdict: str = "pass",
    project: str = "acme/widget",
    number: int | None = 7,
    ref: str = "refs/pull/7/head",
    event: str = "pull_request",
    author: str = "dana",
    failed: tuple[str, ...] = (),
    waivers: tuple[dict[str, Any], ...] = (),
    line_rate: float = 0.8,
    tests: int = 100,
    flaky: int = 0,
    day: str = "2026-11-02",
    version: str = "1.0",
) -> dict[str, Any]:
    """A v2 verdict statement whose content differs with `n` (its head commit too)."""
    rules = [
        {"id": rule, "title": rule, "outcome": "fail", "message": f"{rule} failed"}
        for rule in failed
    ] + [
        {"id": w["rule"], "title": w["rule"], "outcome": "waived", "message": "waived"}
        for w in waivers
        if w.get("status") == "applied"
    ]
    subject: dict[str, Any] = {"repo": project, "ref": ref, "commit": f"{n:040x}"}
    if number is not None:
        subject["number"] = number
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": project, "digest": {"gitCommit": f"{n:040x}"}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "verdict": verdict,
            "policy": {"name": "pull-request", "digest": "ab" * 32, "version": version},
            "rules": rules,
            "waivers": list(waivers),
            "evaluated_at": f"{day}T10:00:00Z",
            "facts": {
                "subject": subject,
                "change": {"author": author, "title": f"change {n}"},
                "tests": {"total": tests, "failed": 0, "flaky": flaky},
                "coverage": {"line_rate": line_rate},
                "reviews": {"approvals": 1, "approvers": ["erin"]},
            },
            "run": {"provider": "github", "event": event},
        },
    }


def waiver(rule: str, expires: str, status: str = "applied") -> dict[str, Any]:
    """A waiver as the evaluation records it."""
    return {
        "rule": rule,
        "reason": "flaky upstream",
        "approved_by": "quality@acme",
        "expires": expires,
        "ticket": "QA-12",
        "status": status,
    }
