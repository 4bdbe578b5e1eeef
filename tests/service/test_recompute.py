"""Recomputed verdicts (DESIGN, "Evidence the service vouches for"): the service evaluates the
carried policy again over the carried facts at the carried time, and refuses (422, nothing
stored) a statement whose verdict or rule outcomes do not follow, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import datetime as dt
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gatekeeper.attest.canonical import canonical_json
from gatekeeper.attest.predicate import policy_digest
from gatekeeper.cli import main
from gatekeeper.cli._submit import statement as build_statement
from gatekeeper.config import Settings
from gatekeeper.facts import Coverage, Facts, Subject, TestSummary
from gatekeeper.policy import evaluate, load_policy
from gatekeeper.policy.recompute import policy_document
from gatekeeper.service.app import create_app
from gatekeeper.service.store import StatementMeta
from tests.service.conftest import Tokens, bearer
from tests.service.live import ApiClient

PROJECT = "acme/widget"
POLICY = """\
version: 1
name: release
rules:
  - id: tests-green
    expr: tests.failed + tests.errors == 0
  - id: line-coverage
    metric: coverage.line_rate
    op: ">="
    threshold: 0.9
waivers:
  - rule: line-coverage
    reason: legacy module, ticket QA-12
    approved_by: qa-lead
    expires: {expires}
"""


def _facts(failed: int = 0) -> Facts:
    return Facts(
        subject=Subject(provider="github", repo=PROJECT, commit="a" * 40, ref="refs/heads/main"),
        tests=TestSummary(total=10, passed=10 - failed, failed=failed, errors=0, skipped=0),
        coverage=Coverage(lines_valid=100, lines_covered=85, line_rate=0.85),
    )


def _statement(
    folder: Path,
    *,
    at: dt.datetime | None = None,
    expires: dt.date | None = None,
    failed: int = 0,
    carry: bool = True,
) -> dict[str, Any]:
    """A statement as `evaluate --submit` builds it, evaluated at `at` (default now)."""
    at = at or dt.datetime.now(dt.UTC)
    path = folder / "policy.yml"
    path.write_text(POLICY.format(expires=expires or at.date()), encoding="utf-8")
    loaded = load_policy(path)
    facts = _facts(failed)
    verdict = evaluate(loaded, facts, now=at)
    return build_statement(verdict, facts, None, policy_document(loaded) if carry else None)


def _post(api: ApiClient, token: str, stated: dict[str, Any]) -> httpx.Response:
    return api.post(
        "/v1/evidence", json={"project": PROJECT, "statement": stated}, headers=bearer(token)
    )


def _stored(api: ApiClient, tokens: Tokens) -> int:
    return len(api.get("/v1/evidence", headers=bearer(tokens.read)).json()["records"])


def _refused(response: httpx.Response, code: str) -> str:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    return str(error["message"])


def test_an_honest_statement_is_recomputed_and_stored(
    api: ApiClient, tokens: Tokens, tmp_path: Path
) -> None:
    """A statement whose verdict follows from its carried policy and facts is stored (201),
    with the policy document and its canonical digest beside the file's byte digest."""
    stated = _statement(tmp_path)
    policy = stated["predicate"]["policy"]
    assert policy["digest"] == policy_digest(policy["document"])
    assert len(policy["file_digest"]) == 64
    assert policy["file_digest"] != policy["digest"]
    response = _post(api, tokens.ingest, stated)
    assert response.status_code == 201, response.text


def test_a_flipped_rule_outcome_is_refused_naming_the_rule(
    api: ApiClient, tokens: Tokens, tmp_path: Path
) -> None:
    """A 'pass' whose facts fail its own policy is refused, naming the first rule that differs,
    and nothing is stored."""
    stated = _statement(tmp_path, failed=2)
    assert stated["predicate"]["verdict"] == "fail"
    forged = copy.deepcopy(stated)
    forged["predicate"]["verdict"] = "pass"
    for rule in forged["predicate"]["rules"]:
        rule["outcome"] = "pass" if rule["id"] == "tests-green" else rule["outcome"]
    message = _refused(_post(api, tokens.ingest, forged), "verdict_not_recomputed")
    assert "rule 'tests-green' is pass in the statement but evaluates to fail" in message
    assert _stored(api, tokens) == 0


def test_a_verdict_that_does_not_follow_is_refused(
    api: ApiClient, tokens: Tokens, tmp_path: Path
) -> None:
    """A verdict changed while every rule outcome is left as evaluated is refused."""
    forged = _statement(tmp_path, failed=2)
    forged["predicate"]["verdict"] = "pass"
    message = _refused(_post(api, tokens.ingest, forged), "verdict_not_recomputed")
    assert "the verdict is pass in the statement but evaluates to fail" in message


def test_a_weakened_document_under_the_old_digest_is_refused(
    api: ApiClient, tokens: Tokens, tmp_path: Path
) -> None:
    """A document changed after its digest was taken is refused: the digest must be the
    SHA-256 of the document's canonical JSON."""
    forged = _statement(tmp_path, failed=2)
    forged["predicate"]["policy"]["document"]["rules"][0]["expr"] = "true"
    _refused(_post(api, tokens.ingest, forged), "policy_digest_mismatch")


def test_a_rule_missing_or_added_is_refused(api: ApiClient, tokens: Tokens, tmp_path: Path) -> None:
    """A statement that drops a rule of its policy, or adds one, is refused naming it."""
    dropped = _statement(tmp_path)
    dropped["predicate"]["rules"] = dropped["predicate"]["rules"][1:]
    message = _refused(_post(api, tokens.ingest, dropped), "verdict_not_recomputed")
    assert "rule 'tests-green' is missing" in message
    added = _statement(tmp_path)
    extra = {**added["predicate"]["rules"][0], "id": "made-up"}
    added["predicate"]["rules"] = [*added["predicate"]["rules"], extra]
    message = _refused(_post(api, tokens.ingest, added), "verdict_not_recomputed")
    assert "'made-up' is in the statement but not in its policy" in message


def test_an_unusable_document_is_refused(api: ApiClient, tokens: Tokens, tmp_path: Path) -> None:
    """A carried document that is not a policy is refused with a sentence, not a 500."""
    forged = _statement(tmp_path)
    document: dict[str, Any] = {"version": 1, "name": "x", "rules": [{"id": "r", "nope": 1}]}
    forged["predicate"]["policy"] |= {"document": document, "digest": policy_digest(document)}
    _refused(_post(api, tokens.ingest, forged), "policy_invalid")


def test_waiver_expiry_is_judged_at_the_evaluation_time(
    api: ApiClient, tokens: Tokens, tmp_path: Path
) -> None:
    """A waiver that held when the gate ran (two days ago) still holds when the service
    re-evaluates today, after it expired."""
    at = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    stated = _statement(tmp_path, at=at, expires=at.date())
    outcomes = {rule["id"]: rule["outcome"] for rule in stated["predicate"]["rules"]}
    assert outcomes["line-coverage"] == "waived"
    assert _post(api, tokens.ingest, stated).status_code == 201


def test_an_evaluation_time_outside_the_window_is_refused(
    api: ApiClient, tokens: Tokens, tmp_path: Path
) -> None:
    """An evaluation time older than the configured age (7 days) or beyond the skew in the
    future is refused, so old waivers cannot be replayed and clocks cannot be set ahead."""
    old = _statement(tmp_path, at=dt.datetime.now(dt.UTC) - dt.timedelta(days=8))
    assert "older than" in _refused(_post(api, tokens.ingest, old), "evaluation_time")
    ahead = _statement(tmp_path, at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    assert "in the future" in _refused(_post(api, tokens.ingest, ahead), "evaluation_time")
    assert _stored(api, tokens) == 0


def test_a_statement_without_a_document_is_stored_unless_required(
    settings: Settings, api: ApiClient, tokens: Tokens, tmp_path: Path
) -> None:
    """Without a policy document a statement is stored by default (not recomputable); a
    service with GATEKEEPER_REQUIRE_POLICY_DOCUMENT refuses it."""
    plain = _statement(tmp_path, carry=False)
    assert "document" not in plain["predicate"]["policy"]
    assert _post(api, tokens.ingest, plain).status_code == 201
    strict: FastAPI = create_app(settings.model_copy(update={"require_policy_document": True}))
    strict_api = ApiClient(strict)
    try:
        again = _statement(tmp_path, carry=False, failed=1)
        _refused(_post(strict_api, tokens.ingest, again), "policy_document_required")
    finally:
        strict_api.close()
        strict.state.gatekeeper.engine.dispose()


@pytest.mark.parametrize("days", [0, 6])
def test_a_spooled_statement_within_the_age_is_stored(
    api: ApiClient, tokens: Tokens, tmp_path: Path, days: int
) -> None:
    """A statement evaluated up to the configured age ago (spooled, sent later) is stored."""
    at = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    assert _post(api, tokens.ingest, _statement(tmp_path, at=at)).status_code == 201


def test_verify_recompute_names_a_record_that_differs_offline(  # noqa: PLR0917 - fixtures
    app: FastAPI,
    api: ApiClient,
    tokens: Tokens,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`gatekeeper verify --recompute BUNDLE` re-evaluates every record offline: one that
    follows passes, one without a document is named not recomputable (not a failure alone),
    and one that an older or compromised service signed without checking is named and exits 1."""
    assert _post(api, tokens.ingest, _statement(tmp_path)).status_code == 201
    assert _post(api, tokens.ingest, _statement(tmp_path, carry=False)).status_code == 201
    key = tmp_path / "service.pem"
    key.write_text(api.get("/v1/keys").json()["keys"][0]["public_key_pem"], encoding="utf-8")

    def verify(name: str) -> tuple[int, str]:
        response = api.get(f"/v1/export?project={PROJECT}", headers=bearer(tokens.read))
        assert response.status_code == 200, response.text
        bundle = tmp_path / name
        bundle.write_bytes(response.content)
        capsys.readouterr()
        argv = ["gatekeeper", "verify", str(bundle), "--key", str(key), "--recompute"]
        monkeypatch.setattr(sys, "argv", argv)
        with pytest.raises(SystemExit) as caught:
            main()
        return int(caught.value.code or 0), capsys.readouterr().err

    code, err = verify("good.zip")
    assert code == 0, err
    assert "NOT RECOMPUTABLE record" in err
    assert "it carries no policy document" in err
    assert "Recomputed: 1 follow, 0 differ, 1 not recomputable" in err
    forged = _statement(tmp_path, failed=2)
    forged["predicate"]["verdict"] = "pass"
    store = app.state.gatekeeper.store
    store.append(PROJECT, canonical_json(forged), StatementMeta(repo=PROJECT, verdict="pass"))
    code, err = verify("forged.zip")
    assert code == 1
    assert "DIFFERS record" in err
    assert "the verdict is pass in the statement but evaluates to fail" in err
