"""The records page over the workspace: filters, their links, paging, total, seeded sample."""

from __future__ import annotations

import html
import re

from tests.pages.conftest import History, Tokens, session
from tests.service.live import ApiClient


def _ids(text: str) -> list[str]:
    return re.findall(r'href="/ui/records/([0-9a-f-]{36})"', text)


def test_each_filter_selects_its_records(
    client: ApiClient, tokens: Tokens, history: History
) -> None:
    """Verdict, waived outcome, ref prefix, kind, PR/MR, author and policy each narrow the list."""
    reader = session(client, tokens.read)
    cases = {
        "verdict=fail": [history.release, history.failed_open, history.failed_fixed],
        "outcome=waived": [history.waived_expired, history.waived],
        "ref_prefix=refs/tags/": [history.release],
        "kind=release": [history.release],
        "change=8": [history.failed_open],
        "author=sam": [history.failed_open],
        "policy=pull-request@1.0&verdict=pass": [
            history.waived_expired,
            history.waived,
            history.correction,
        ],
        "project=acme/widget&commit=" + f"{3:040x}": [history.failed_open],
    }
    for query, expected in cases.items():
        response = client.get(f"/ui/records?{query}", headers=reader)
        assert response.status_code == 200, query
        assert _ids(response.text) == expected, query
        assert f"<strong>{len(expected)}</strong> record" in response.text, query


def test_waived_records_are_marked_in_the_list(
    client: ApiClient, tokens: Tokens, history: History
) -> None:
    """A record that passed through a waiver carries a "waived" badge beside its verdict."""
    text = client.get("/ui/records?outcome=waived", headers=session(client, tokens.read)).text
    assert text.count('<span class="badge waived"') == 2


def test_filters_are_kept_on_every_link(
    client: ApiClient, tokens: Tokens, history: History
) -> None:
    """Paging links, the sample form and the report links all carry the active filters."""
    query = "project=acme%2Fwidget&verdict=pass&ref_prefix=refs%2Fpull%2F&limit=1"
    text = client.get(f"/ui/records?{query}", headers=session(client, tokens.read)).text
    older = re.search(r'href="([^"]+)" rel="next"', text)
    assert older is not None
    url = html.unescape(older.group(1))
    for kept in ("project=acme%2Fwidget", "verdict=pass", "ref_prefix=refs%2Fpull%2F", "limit=1"):
        assert kept in url
    assert '<input type="hidden" name="ref_prefix" value="refs/pull/">' in text
    second = client.get(url, headers=session(client, tokens.read)).text
    newest = re.search(r'href="([^"]+)">Newest', second)
    assert newest is not None
    assert "verdict=pass" in html.unescape(newest.group(1))


def test_audit_report_links_carry_the_filters(
    client: ApiClient, tokens: Tokens, history: History
) -> None:
    """With a project chosen, the page links the HTML, PDF and CSV report with its filters."""
    reader = session(client, tokens.read)
    text = client.get("/ui/records?project=acme/widget&since=2026-01-01", headers=reader).text
    links = [html.unescape(h) for h in re.findall(r'href="(/ui/report\?[^"]+)"', text)]
    assert links == [
        f"/ui/report?project=acme%2Fwidget&since=2026-01-01&format={fmt}"
        for fmt in ("html", "pdf", "csv")
    ]
    assert "/ui/report" not in client.get("/ui/records", headers=reader).text


def test_a_sample_names_its_seed_and_draws_the_same_records_again(
    client: ApiClient, tokens: Tokens, history: History
) -> None:
    """Without a seed the page picks one and redirects to it; the same seed draws the same
    records, shown with the population and the seed, and the report links carry both."""
    reader = session(client, tokens.read)
    chosen = client.get("/ui/records?sample=3&verdict=pass", headers=reader)
    assert chosen.status_code == 303
    location = chosen.headers["location"]
    seed = re.search(r"seed=([0-9a-f]{8})", location)
    assert seed is not None
    assert "verdict=pass" in location
    first = client.get(location, headers=reader).text
    again = client.get(location, headers=reader).text
    assert len(_ids(first)) == 3
    assert _ids(first) == _ids(again)
    assert f'<code id="seed">{seed.group(1)}</code>' in first
    assert "from\n  <strong>3</strong> matching records" in first
    named = client.get("/ui/records?sample=2&seed=audit-2026&project=acme/widget", headers=reader)
    assert named.status_code == 200
    assert len(_ids(named.text)) == 2
    assert "sample=2&amp;seed=audit-2026&amp;format=pdf" in named.text
