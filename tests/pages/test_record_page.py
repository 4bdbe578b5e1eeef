"""The record page: rules in order, approvals, concessions, links, policy publication, 10.2."""

from __future__ import annotations

from tests.pages.conftest import History, Tokens, bearer, session
from tests.service.live import ApiClient
from tests.service.workspace_data import verdict_statement

_DOCUMENT = {
    "version": 1,
    "name": "pull-request",
    "rules": [
        {"id": "line-coverage", "metric": "coverage.line_rate", "op": ">=", "threshold": 0.8}
    ],
}


def test_failing_rules_come_first(client: ApiClient, tokens: Tokens, history: History) -> None:
    """On a failed record the failing rule is the first row of the rules table."""
    statement = verdict_statement(20, verdict="fail", failed=("tests-pass",))
    statement["predicate"]["rules"].insert(
        0, {"id": "line-coverage", "title": "coverage ok", "outcome": "pass", "message": "ok"}
    )
    body = {"project": "acme/widget", "statement": statement}
    stored = client.post("/v1/evidence", json=body, headers=bearer(tokens.ingest)).json()
    text = client.get(f"/ui/records/{stored['id']}", headers=session(client, tokens.read)).text
    rules = text[text.index('class="rules"') :]
    assert rules.index("tests-pass") < rules.index("line-coverage")


def test_a_fixed_failure_links_its_correction_both_ways(
    client: ApiClient, tokens: Tokens, history: History
) -> None:
    """The failed record links the passing record that corrected it, and that one links back;
    a failure nothing fixed says open."""
    reader = session(client, tokens.read)
    failed = client.get(f"/ui/records/{history.failed_fixed}", headers=reader).text
    assert "Corrected by the passing record" in failed
    assert f'href="/ui/records/{history.correction}"' in failed
    fixed = client.get(f"/ui/records/{history.correction}", headers=reader).text
    assert "This record corrected the failed record of" in fixed
    assert f'href="/ui/records/{history.failed_fixed}"' in fixed
    still_open = client.get(f"/ui/records/{history.failed_open}", headers=reader).text
    assert '<span class="badge fail">open</span>' in still_open


def test_concessions_box_lists_each_waiver(
    client: ApiClient, tokens: Tokens, history: History
) -> None:
    """A waived record shows the waiver's rule, status, reason, approver, expiry and ticket,
    and is marked waived; a record without waivers says none was used."""
    reader = session(client, tokens.read)
    text = client.get(f"/ui/records/{history.waived}", headers=reader).text
    box = text[text.index('id="concessions"') :]
    box = box[: box.index("</section>")]
    for shown in ("coverage-min", "applied", "flaky upstream", "quality@acme", "QA-12"):
        assert shown in box
    assert '<span class="badge waived"' in text[: text.index("</h1>")]
    plain = client.get(f"/ui/records/{history.correction}", headers=reader).text
    assert "No waiver was used" in plain


def test_approvers_links_and_policy_publication(
    client: ApiClient, tokens: Tokens, history: History
) -> None:
    """Approvers are shown with the commit they approved, the CI run and PR links appear, and
    the policy version says when and by whom it was published (or that it was not)."""
    reader = session(client, tokens.read)
    unpublished = client.get(f"/ui/records/{history.correction}", headers=reader).text
    head = f"{2:040x}"[:12]
    assert f"<strong>erin</strong> approved commit <code>{head}</code>" in unpublished
    assert "not a published version of this project" in unpublished
    published = client.post(
        "/v1/policies",
        json={"project": "acme/widget", "document": _DOCUMENT, "note": "QA board 12"},
        headers=bearer(tokens.admin),
    )
    assert published.status_code == 201, published.text
    statement = verdict_statement(21)
    statement["predicate"]["policy"]["digest"] = published.json()["digest"]
    statement["predicate"]["run"]["run_url"] = "https://ci.example/run/21"
    statement["predicate"]["facts"]["subject"]["url"] = "https://github.example/acme/widget/pull/7"
    body = {"project": "acme/widget", "statement": statement}
    stored = client.post("/v1/evidence", json=body, headers=bearer(tokens.ingest))
    assert stored.status_code == 201, stored.text
    text = client.get(f"/ui/records/{stored.json()['id']}", headers=reader).text
    when = published.json()["published_at"][:19].replace("T", " ")
    assert f"{when} UTC by {published.json()['published_by']} (QA board 12)" in text
    assert "<dt>Version</dt><dd>1.0</dd>" in text
    assert 'href="https://ci.example/run/21" rel="noopener noreferrer" id="run-link"' in text
    assert 'href="https://github.example/acme/widget/pull/7" rel="noopener noreferrer"' in text
