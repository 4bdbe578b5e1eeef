"""The releases view (8.6): each release with its changes, their records, and its approvers."""

from __future__ import annotations

from tests.pages.conftest import History, Tokens, bearer, session
from tests.pages.history import release_statement
from tests.service.live import ApiClient


def _card(text: str) -> str:
    return text[text.index('<section class="card release"') :]


def test_release_lists_changes_marks_ungated_and_names_the_approver(
    client: ApiClient, tokens: Tokens, history: History
) -> None:
    """The v1.0 release shows its three changes: PR 7 gated with a link to its passing record,
    PR 8 failed with its record, the direct push ungated with none; qa-lead authorised it."""
    response = client.get("/ui/releases", headers=session(client, tokens.read))
    assert response.status_code == 200
    card = _card(response.text)
    assert "Release <code>v1.0</code> of acme/widget" in card
    assert "changes since <code>v0.9</code>" in card
    assert f'href="/ui/records/{history.release}"' in card
    rows = card[card.index("<tbody>") : card.index("</tbody>")].split("<tr")[1:]
    assert len(rows) == 3
    assert rows[0].startswith(' class="gated"')
    assert f'href="/ui/records/{history.correction}"' in rows[0]
    assert rows[1].startswith(' class="failed"')
    assert f'href="/ui/records/{history.failed_open}"' in rows[1]
    assert rows[2].startswith(' class="ungated"')
    assert "direct push" in rows[2]
    assert "no record" in rows[2]
    assert "<strong>2</strong> without a passing record" in card
    assert "<strong>qa-lead</strong> for <code>production</code> at 2026-11-12 09:30:00 UTC" in card
    assert "ship it" in card


def test_release_record_page_shows_the_release(
    client: ApiClient, tokens: Tokens, history: History
) -> None:
    """The release's own record page carries the same changes table and approvers."""
    text = client.get(f"/ui/records/{history.release}", headers=session(client, tokens.read)).text
    assert "Release <code>v1.0</code>" in text
    assert f'href="/ui/records/{history.correction}"' in _card(text)
    assert "Authorised by (8.6 b)" in text
    plain = client.get(
        f"/ui/records/{history.correction}", headers=session(client, tokens.read)
    ).text
    assert '<section class="card release"' not in plain


def test_unreadable_release_facts_are_named_not_shown_as_empty(
    client: ApiClient, tokens: Tokens, history: History
) -> None:
    """A tag record whose release facts do not parse is listed with the reason; the release
    filter of the records page selects release records only."""
    broken = release_statement(30, [])
    broken["predicate"]["facts"]["release"] = {"tag": 12, "changes": "all of them"}
    body = {"project": "acme/widget", "statement": broken}
    assert client.post("/v1/evidence", json=body, headers=bearer(tokens.ingest)).status_code == 201
    text = client.get("/ui/releases?project=acme/widget", headers=session(client, tokens.read)).text
    assert "<strong>2</strong> release records" in text
    assert "the release facts are unreadable: tag:" in text
    listing = client.get("/ui/records?kind=release", headers=session(client, tokens.read)).text
    assert "<strong>2</strong> records match" in listing


def test_change_records_of_unreadable_projects_are_not_linked(
    client: ApiClient, tokens: Tokens, history: History
) -> None:
    """A release naming a change record of a project the token may not read shows no link."""
    other = client.post(
        "/v1/evidence",
        json={"project": "other/thing", "statement": release_statement(31, [], "other/thing")},
        headers=bearer(tokens.ingest_other),
    )
    assert other.status_code == 201, other.text
    changes = [
        {"kind": "pr", "number": 3, "title": "elsewhere", "merge_commit": "c" * 40,
         "record_id": other.json()["id"], "verdict": "pass", "gated": True},
    ]  # fmt: skip
    body = {"project": "acme/widget", "statement": release_statement(32, changes)}
    stored = client.post("/v1/evidence", json=body, headers=bearer(tokens.ingest)).json()
    text = client.get(f"/ui/records/{stored['id']}", headers=session(client, tokens.read)).text
    assert f'href="/ui/records/{other.json()["id"]}"' not in text
    assert f"<code>{other.json()['id'][:8]}</code>" in text
