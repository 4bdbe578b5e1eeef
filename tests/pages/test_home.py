"""The home page: the projects a token may read, each summarised, with links into the pages."""

from __future__ import annotations

import html

from tests.pages.conftest import History, Tokens, bearer, session
from tests.pages.history import release_statement
from tests.service.live import ApiClient


def test_home_summarises_each_readable_project(
    client: ApiClient, tokens: Tokens, history: History
) -> None:
    """The project card shows the latest verdict (the release), 3 of 6 passing in 30 days, one
    open nonconformity (PR 8; the release is one too) and one active concession."""
    response = client.get("/ui/", headers=session(client, tokens.read))
    assert response.status_code == 200
    text = html.unescape(response.text)
    card = text[text.index("<h2") : text.index("</section>")]
    assert "acme/widget" in card
    assert f'href="/ui/records/{history.release}"' in card
    assert "<strong>50 %</strong> of 6 records" in card
    assert '<a href="/ui/registers/nonconformities?project=acme%2Fwidget">2</a>' in card
    assert '<a href="/ui/registers/concessions?project=acme%2Fwidget">1</a>' in card
    assert "/ui/report?project=acme%2Fwidget&format=pdf" in card


def test_home_shows_only_the_tokens_projects(client: ApiClient, tokens: Tokens) -> None:
    """A token bound to another project sees that project with no records, never acme/widget's;
    sign-in lands on the home page."""
    text = client.get("/ui/", headers=session(client, tokens.read_other)).text
    assert "acme/widget" not in text
    assert "no records yet" in text
    login = client.post("/ui/login", data={"token": tokens.read})
    assert login.headers["location"] == "/ui/"


def test_a_token_for_every_project_sees_each_project_holding_records(
    client: ApiClient, tokens: Tokens, history: History
) -> None:
    """An all-projects token's home and project filter list every project with records, once."""
    body = {"project": "other/thing", "statement": release_statement(50, [], "other/thing")}
    stored = client.post("/v1/evidence", json=body, headers=bearer(tokens.ingest_other))
    assert stored.status_code == 201, stored.text
    reader = session(client, tokens.admin)
    home = client.get("/ui/", headers=reader).text
    assert home.count('<section class="card project"') == 2
    assert home.index("acme/widget") < home.index("other/thing")
    listing = client.get("/ui/records", headers=reader).text
    assert listing.count("<option>acme/widget</option>") == 1
    assert listing.count("<option>other/thing</option>") == 1
