"""The home page: the projects a token may read, each summarised, with links into the pages."""

from __future__ import annotations

import html

from tests.pages.conftest import History, Tokens, session
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
