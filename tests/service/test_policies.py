"""Controlled policies (DESIGN, ISO 9001 7.5.3 for the process definition): an admin publishes a
project's policy versions, each a signed record in the log and an append-only row; a project with
published policies refuses evidence judged by any other, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from gatekeeper.attest.predicate import policy_digest
from gatekeeper.cli._submit import statement as build_statement
from gatekeeper.facts import Coverage, Facts, Subject, TestSummary
from gatekeeper.policy import evaluate, load_policy
from gatekeeper.policy.recompute import policy_document
from gatekeeper.service.policies import POLICY_PREDICATE_TYPE
from tests.cli import run_gatekeeper
from tests.service.conftest import Tokens, bearer
from tests.service.live import ApiClient, RunningService

PROJECT = "acme/widget"
POLICY = """\
version: 1
name: release
rules:
  - id: line-coverage
    metric: coverage.line_rate
    op: ">="
    threshold: {threshold}
"""


def _policy(folder: Path, threshold: float) -> Path:
    path = folder / f"policy-{threshold}.yml"
    path.write_text(POLICY.format(threshold=threshold), encoding="utf-8")
    return path


def _document(folder: Path, threshold: float) -> dict[str, Any]:
    document = policy_document(load_policy(_policy(folder, threshold)))
    assert document is not None
    return document


def _statement(folder: Path, threshold: float, n: int = 0) -> dict[str, Any]:
    loaded = load_policy(_policy(folder, threshold))
    facts = Facts(
        subject=Subject(repo=PROJECT, commit=f"{n:040x}"),
        tests=TestSummary(total=1, passed=1, failed=0, errors=0, skipped=0),
        coverage=Coverage(lines_valid=100, lines_covered=85, line_rate=0.85),
    )
    verdict = evaluate(loaded, facts, now=dt.datetime.now(dt.UTC))
    return build_statement(verdict, facts, None, policy_document(loaded))


def _publish(api: ApiClient, token: str, document: dict[str, Any], note: str | None = None) -> Any:
    body = {"project": PROJECT, "document": document, "note": note}
    return api.post("/v1/policies", json=body, headers=bearer(token))


def _ingest(api: ApiClient, tokens: Tokens, stated: dict[str, Any]) -> Any:
    return api.post(
        "/v1/evidence",
        json={"project": PROJECT, "statement": stated},
        headers=bearer(tokens.ingest),
    )


def test_a_published_policy_is_listed_and_signed_in_the_log(
    api: ApiClient, tokens: Tokens, tmp_path: Path
) -> None:
    """Publishing answers 201 with digest, publisher, time and note; the list shows it; the
    same digest again answers 200 with the first; the publication is a record in the log."""
    document = _document(tmp_path, 0.8)
    first = _publish(api, tokens.admin, document, "QA-1 baseline")
    assert first.status_code == 201, first.text
    published = first.json()
    assert published["digest"] == policy_digest(document)
    assert published["note"] == "QA-1 baseline"
    assert published["published_by"]
    again = _publish(api, tokens.admin, document)
    assert again.status_code == 200
    assert again.json()["record_id"] == published["record_id"]
    listed = api.get(f"/v1/policies?project={PROJECT}", headers=bearer(tokens.read)).json()
    assert [p["digest"] for p in listed["policies"]] == [published["digest"]]
    assert listed["policies"][0]["document"] == document
    record = api.get(f"/v1/evidence/{published['record_id']}", headers=bearer(tokens.read))
    assert record.status_code == 200
    payload = base64.b64decode(record.json()["envelope"]["payload"])
    assert json.loads(payload)["predicateType"] == POLICY_PREDICATE_TYPE


def test_publishing_needs_an_admin_token(api: ApiClient, tokens: Tokens, tmp_path: Path) -> None:
    """An ingest token cannot publish (403), a bad document is refused (422)."""
    assert _publish(api, tokens.ingest, _document(tmp_path, 0.8)).status_code == 403
    bad = _publish(api, tokens.admin, {"version": 1, "name": "x", "rules": []})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "policy_invalid"


def test_evidence_judged_by_another_policy_is_refused(
    api: ApiClient, tokens: Tokens, tmp_path: Path
) -> None:
    """Once a project has a published policy, a statement judged by a weaker one (a pull
    request editing the policy file) is refused, naming the accepted versions; one judged by
    the published policy is stored."""
    assert _ingest(api, tokens, _statement(tmp_path, 0.5, 1)).status_code == 201
    assert _publish(api, tokens.admin, _document(tmp_path, 0.8)).status_code == 201
    weaker = _ingest(api, tokens, _statement(tmp_path, 0.5, 2))
    assert weaker.status_code == 422, weaker.text
    error = weaker.json()["error"]
    assert error["code"] == "policy_not_published"
    digest = policy_digest(_document(tmp_path, 0.8))
    assert (
        f"accepts only evidence judged by its published policies (release sha256:{digest[:12]}"
        in error["message"]
    )
    assert _ingest(api, tokens, _statement(tmp_path, 0.8, 3)).status_code == 201


def test_published_policies_are_append_only(
    app: FastAPI, api: ApiClient, tokens: Tokens, tmp_path: Path
) -> None:
    """The database refuses to change or remove a published policy."""
    assert _publish(api, tokens.admin, _document(tmp_path, 0.8)).status_code == 201
    engine = app.state.gatekeeper.engine
    for sql in ("UPDATE policies SET note = 'x'", "DELETE FROM policies"):
        with pytest.raises(DBAPIError), engine.begin() as connection:
            connection.execute(text(sql))


def test_policy_publish_command_publishes_and_evaluate_names_the_versions(
    live_service: RunningService, tmp_path: Path
) -> None:
    """`gatekeeper policy publish FILE --project P` registers it with an admin token; then
    `evaluate --submit` with another policy exits 3 with one sentence naming the accepted one."""
    env = {"GATEKEEPER_TOKEN": live_service.admin_token}
    published = run_gatekeeper(
        "policy",
        "publish",
        str(_policy(tmp_path, 0.8)),
        "--project",
        "acme/published",
        "--service",
        live_service.url,
        "--note",
        "baseline",
        env=env,
    )
    assert published.returncode == 0, published.stderr
    assert "published for acme/published" in published.stdout
    facts = tmp_path / "facts.json"
    facts.write_text(
        '{"coverage": {"lines_valid": 100, "lines_covered": 85, "line_rate": 0.85}}',
        encoding="utf-8",
    )
    refused = run_gatekeeper(
        "evaluate",
        "--policy",
        str(_policy(tmp_path, 0.5)),
        "--facts",
        str(facts),
        "--repo",
        "acme/published",
        "--commit",
        "c" * 40,
        "--submit",
        live_service.url,
        env=env,
    )
    assert refused.returncode == 3, refused.stderr
    assert (
        "accepts only evidence judged by its published policies (release sha256:" in refused.stderr
    )
