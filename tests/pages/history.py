"""A project's history the workspace pages show: a nonconformity and its correction, an open
one, waived passes (one concession expiring soon, one expired) and a release of those changes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from tests.service.conftest import bearer
from tests.service.workspace_data import verdict_statement, waiver

PROJECT = "acme/widget"


class Poster(Protocol):
    """The in-process ApiClient or an httpx.Client of a running service."""

    def post(self, url: str, **kwargs: Any) -> httpx.Response: ...


@dataclass(frozen=True)
class History:
    """The ids of the stored records, by what they are."""

    failed_fixed: str
    correction: str
    failed_open: str
    waived: str
    waived_expired: str
    release: str


def _post(client: Poster, ingest: str, statement: dict[str, Any]) -> str:
    predicate = statement["predicate"]
    commit = predicate["facts"]["subject"]["commit"]
    predicate["run"]["run_url"] = f"https://ci.example/acme/widget/run/{int(commit, 16)}"
    number = predicate["facts"]["subject"].get("number")
    if number is not None:
        predicate["facts"]["subject"]["url"] = f"https://github.example/{PROJECT}/pull/{number}"
    body = {"project": PROJECT, "statement": statement}
    response = client.post("/v1/evidence", json=body, headers=bearer(ingest))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def release_statement(
    n: int, changes: list[dict[str, Any]], project: str = PROJECT
) -> dict[str, Any]:
    """A release pipeline's verdict for tag v1.0 shipping `changes`, approved by qa-lead."""
    statement = verdict_statement(
        n, project=project, number=None, ref="refs/tags/v1.0", event="push", author="rel-bot"
    )
    release = {
        "tag": "v1.0",
        "tag_author": "rel-bot",
        "previous_tag": "v0.9",
        "changes": changes,
        "changes_total": len(changes),
        "changes_ungated": sum(1 for c in changes if not c["gated"]),
        "changes_failed": sum(1 for c in changes if c.get("verdict") == "fail"),
        "direct_pushes": sum(1 for c in changes if c["kind"] == "direct push"),
        "approvals": [
            {
                "who": "qa-lead",
                "when": "2026-11-12T09:30:00Z",
                "comment": "ship it",
                "environment": "production",
            }
        ],
        "approvers_not_author": 1,
    }
    statement["predicate"]["facts"]["release"] = release
    statement["predicate"]["verdict"] = "fail"
    statement["predicate"]["rules"] = [
        {
            "id": "release-changes-gated",
            "title": "Every change gated",
            "outcome": "fail",
            "message": "2 of 3 changes have no passing record",
            "clause": "8.6",
        }
    ]
    return statement


def store_history(client: Poster, ingest: str) -> History:
    """Six records through POST /v1/evidence (with the `ingest` token), oldest first."""
    today = dt.datetime.now(dt.UTC).date()
    soon = (today + dt.timedelta(days=5)).isoformat()
    gone = (today - dt.timedelta(days=3)).isoformat()
    failed_fixed = _post(
        client, ingest, verdict_statement(1, verdict="fail", failed=("coverage-min",))
    )
    correction = _post(client, ingest, verdict_statement(2, line_rate=0.9))
    failed_open = _post(
        client,
        ingest,
        verdict_statement(3, verdict="fail", number=8, author="sam", failed=("tests-pass",)),
    )
    waived = _post(
        client, ingest, verdict_statement(4, number=9, waivers=(waiver("coverage-min", soon),))
    )
    waived_expired = _post(
        client, ingest, verdict_statement(5, number=10, waivers=(waiver("four-eyes", gone),))
    )
    changes = [
        {"kind": "pr", "number": 7, "title": "change 2", "merge_commit": "e" * 40,
         "head_commit": f"{2:040x}", "author": "dana", "record_id": correction,
         "verdict": "pass", "gated": True},
        {"kind": "pr", "number": 8, "title": "change 3", "merge_commit": "f" * 40,
         "head_commit": f"{3:040x}", "author": "sam", "record_id": failed_open,
         "verdict": "fail", "gated": False},
        {"kind": "direct push", "title": "hotfix pushed to main", "merge_commit": "d" * 40,
         "author": "mallory", "gated": False},
    ]  # fmt: skip
    release = _post(client, ingest, release_statement(6, changes))
    return History(failed_fixed, correction, failed_open, waived, waived_expired, release)
