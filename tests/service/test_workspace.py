"""The auditor's workspace queries over records ingested through the API (SQLite, PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from gatekeeper.service.workspace.facets import facets_from_envelope, facets_from_statement
from gatekeeper.service.workspace.filters import RecordFilter
from gatekeeper.service.workspace.listing import list_records
from gatekeeper.service.workspace.registers import (
    concessions,
    corrected_failures,
    correction_of,
    nonconformities,
)
from gatekeeper.service.workspace.sample import sample_records
from gatekeeper.service.workspace.trends import project_summaries, weekly_trends
from tests.service.conftest import Tokens, bearer
from tests.service.live import ApiClient, statement
from tests.service.workspace_data import verdict_statement, waiver

PROJECT = "acme/widget"
ALL = RecordFilter(projects=(PROJECT,))


def _post(api: ApiClient, tokens: Tokens, body: dict) -> dict:  # type: ignore[type-arg]
    response = api.post(
        "/v1/evidence", json={"project": PROJECT, "statement": body}, headers=bearer(tokens.ingest)
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _history(api: ApiClient, tokens: Tokens) -> list[dict]:  # type: ignore[type-arg]
    """PR 7 fails then is fixed; PR 8 fails and stays open; PR 9 passes through a waiver; a tag."""
    return [
        _post(api, tokens, verdict_statement(1, verdict="fail", failed=("coverage-min",))),
        _post(api, tokens, verdict_statement(2, line_rate=0.9, day="2026-11-10")),
        _post(
            api,
            tokens,
            verdict_statement(3, verdict="fail", number=8, author="sam", failed=("tests-pass",)),
        ),
        _post(
            api,
            tokens,
            verdict_statement(4, number=9, waivers=(waiver("coverage-min", "2026-12-10"),)),
        ),
        _post(
            api,
            tokens,
            verdict_statement(
                5, number=None, ref="refs/tags/v1.0", event="push", flaky=2, day="2026-11-11"
            ),
        ),
    ]


def test_listing_filters_pages_both_ways_and_counts(
    app: FastAPI, api: ApiClient, tokens: Tokens
) -> None:
    """Records come newest first with a total, filters narrow them, paging goes both ways."""
    ids = [r["id"] for r in _history(api, tokens)]
    with app.state.gatekeeper.engine.connect() as connection:
        page = list_records(connection, ALL, limit=2)
        assert [r.record_id for r in page.records] == [ids[4], ids[3]]
        assert page.total == 5
        assert page.newer is None
        assert page.older is not None
        second = list_records(connection, ALL, limit=2, older_than=page.older)
        assert [r.record_id for r in second.records] == [ids[2], ids[1]]
        back = list_records(connection, ALL, limit=2, newer_than=second.newer)
        assert [r.record_id for r in back.records] == [ids[4], ids[3]]
        assert back.newer is None

        def only(**kwargs: object) -> list[str]:
            where = ALL.model_copy(update=kwargs)
            return [r.record_id for r in list_records(connection, where).records]

        assert only(waived=True) == [ids[3]]
        assert only(rule="coverage-min") == [ids[3], ids[0]]
        assert only(ref_prefix="refs/tags/") == [ids[4]]
        assert only(kind="release") == [ids[4]]
        assert only(change_id="8") == [ids[2]]
        assert only(author="sam") == [ids[2]]
        assert only(verdict="fail") == [ids[2], ids[0]]
        assert only(policy="pull-request@1.0") == ids[::-1]
        assert only(policy="pull-request@2.0") == []
        assert only(since="2026-01-01", until="2026-01-02") == []
        assert only(ref_prefix="refs/%") == []  # a LIKE wildcard in a prefix is a plain character


def test_sample_is_reproducible_for_the_same_seed(
    app: FastAPI, api: ApiClient, tokens: Tokens
) -> None:
    """The same seed and filter draw the same records; the sample never exceeds the set."""
    _history(api, tokens)
    with app.state.gatekeeper.engine.connect() as connection:
        first = sample_records(connection, ALL, 3, "audit-2026")
        again = sample_records(connection, ALL, 3, "audit-2026")
        assert first == again
        assert len(first.records) == 3
        assert first.population == 5
        assert len(sample_records(connection, ALL, 50, "x").records) == 5


def test_nonconformity_register_links_failures_to_corrections_both_ways(
    app: FastAPI, api: ApiClient, tokens: Tokens
) -> None:
    """A failed PR fixed by a later head commit is corrected by that record; another stays open."""
    ids = [r["id"] for r in _history(api, tokens)]
    with app.state.gatekeeper.engine.connect() as connection:
        register = nonconformities(connection, ALL)
        assert [(n.failed.record_id, n.status) for n in register] == [
            (ids[2], "open"),
            (ids[0], "corrected"),
        ]
        assert register[1].correction is not None
        assert register[1].correction.record_id == ids[1]
        fixed = register[1].correction
        assert [r.record_id for r in corrected_failures(connection, fixed)] == [ids[0]]
        assert correction_of(connection, register[1].failed) == fixed
        assert correction_of(connection, fixed) is None


def test_concession_register_marks_expiring_and_expired(
    app: FastAPI, api: ApiClient, tokens: Tokens
) -> None:
    """Every applied waiver is listed with its approver, ticket and the records it let pass."""
    ids = [r["id"] for r in _history(api, tokens)]
    with app.state.gatekeeper.engine.connect() as connection:
        (concession,) = concessions(connection, ALL, dt.date(2026, 12, 1))
        assert concession.approved_by == "quality@acme"
        assert concession.ticket == "QA-12"
        assert concession.records == (ids[3],)
        assert concession.state == "expiring"
        assert concessions(connection, ALL, dt.date(2026, 12, 20))[0].state == "expired"
        assert concessions(connection, ALL, dt.date(2026, 11, 1))[0].state == "active"


def test_trends_and_home_summary(app: FastAPI, api: ApiClient, tokens: Tokens) -> None:
    """Weekly points carry pass rate, coverage, tests and flaky tests; the summary counts."""
    _history(api, tokens)
    with app.state.gatekeeper.engine.connect() as connection:
        (week,) = weekly_trends(connection, ALL)  # all integrated this week
        assert week.records == 5
        assert week.passed == 3
        assert week.tests_flaky == 2
        assert week.line_rate is not None
        assert 0.8 < week.line_rate < 0.9
        (summary,) = project_summaries(connection, [PROJECT])
        assert summary.latest is not None
        assert summary.latest.kind == "release"
        assert summary.pass_rate_30d == 0.6
        assert summary.open_nonconformities == 1
        assert summary.active_concessions == 1
        (empty,) = project_summaries(connection, ["nobody/here"])
        assert empty.latest is None
        assert empty.pass_rate_30d is None


def test_api_filters_waived_and_rule_and_marks_waived_records(
    api: ApiClient, tokens: Tokens
) -> None:
    """`?outcome=waived` and `?rule=` select records, and a waived record says so in the API."""
    ids = [r["id"] for r in _history(api, tokens)]
    headers = bearer(tokens.read)
    waived = api.get("/v1/evidence?outcome=waived", headers=headers).json()["records"]
    assert [r["id"] for r in waived] == [ids[3]]
    assert waived[0]["waived"] is True
    assert waived[0]["waived_rules"] == ["coverage-min"]
    by_rule = api.get("/v1/evidence?rule=tests-pass", headers=headers).json()["records"]
    assert [r["id"] for r in by_rule] == [ids[2]]
    one = api.get(f"/v1/evidence/{ids[3]}", headers=headers).json()
    assert one["waived"] is True
    assert api.get(f"/v1/evidence/{ids[0]}", headers=headers).json()["waived"] is False
    tags = api.get("/v1/evidence?ref_prefix=refs/tags/&kind=release", headers=headers).json()
    assert [r["id"] for r in tags["records"]] == [ids[4]]
    refused = api.get("/v1/evidence?outcom=waived", headers=headers)
    assert refused.status_code == 422
    assert "outcom" in refused.json()["error"]["message"]


def test_facets_are_append_only(app: FastAPI, api: ApiClient, tokens: Tokens) -> None:
    """The database refuses to change a record's facets, like the record itself."""
    _history(api, tokens)
    engine = app.state.gatekeeper.engine
    for sql in ("UPDATE record_facets SET waived = 1", "DELETE FROM record_facets"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(sql))


def test_facets_of_hostile_or_foreign_statements(api: ApiClient, tokens: Tokens) -> None:
    """A statement that is no Gatekeeper verdict still gets facets (kind other), never an error."""
    assert facets_from_statement("x").kind == "other"
    assert facets_from_statement(statement(1)).policy_name == "p"  # v1 records are read too
    assert facets_from_statement({"predicateType": "x", "predicate": {}}).policy_name is None
    assert facets_from_envelope(b"not json").kind == "other"
    assert facets_from_envelope(b'{"payload": "!!"}').kind == "other"
    odd = verdict_statement(1)
    odd["predicate"]["facts"]["coverage"]["line_rate"] = 7
    odd["predicate"]["facts"]["tests"]["total"] = True
    facets = facets_from_statement(odd)
    assert facets.line_rate is None
    assert facets.tests_total is None
    assert facets.kind == "pr"
    _post(api, tokens, statement(2))
