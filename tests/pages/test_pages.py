"""The auditor pages in-process: auth, status codes, filters, escaping, verification, links."""

from __future__ import annotations

import hashlib
import html
import io
import re
import zipfile
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import select

from gatekeeper.service.auth import authenticate, revoke_token
from gatekeeper.service.pages import COOKIE
from gatekeeper.service.pages.sessions import SESSION_HOURS, open_session
from gatekeeper.service.tables import PageSessionRow
from tests.pages.conftest import Stored, Tokens, session
from tests.service.live import ApiClient


def test_pages_without_a_session_answer_a_sign_in_page(client: ApiClient) -> None:
    """Every page but the login form is 401 HTML with a sign-in link when no cookie is sent."""
    for path in (
        "/ui/",
        "/ui/records",
        "/ui/log",
        "/ui/records/x",
        "/ui/records/x/json",
        "/ui/export?project=a/b",
    ):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.headers["content-type"].startswith("text/html")
        assert 'href="/ui/login"' in response.text


def test_a_cookie_holding_a_token_or_a_made_up_session_is_refused(
    client: ApiClient, tokens: Tokens
) -> None:
    """The cookie must name a session: a raw read token or a made-up id gives 401, unechoed."""
    for value in ("gk_nope_nope", tokens.read, "x" * 43):
        refused = client.get("/ui/records", headers={"Cookie": f"{COOKIE}={value}"})
        assert refused.status_code == 401
        assert value not in refused.text


def test_the_session_cookie_holds_a_session_id_not_the_token(
    client: ApiClient, tokens: Tokens, app: FastAPI
) -> None:
    """After sign-in the cookie is a random id whose SHA-256 is stored beside the token id;
    neither the token nor the id is stored in clear."""
    login = client.post("/ui/login", data={"token": tokens.read})
    session_id = login.cookies[COOKIE]
    assert tokens.read not in login.headers["set-cookie"]
    assert len(session_id) >= 40
    with app.state.gatekeeper.engine.connect() as connection:
        rows = connection.execute(select(PageSessionRow.__table__)).all()
    assert [row.session_sha256 for row in rows] == [hashlib.sha256(session_id.encode()).hexdigest()]
    assert rows[0].token_id == tokens.read.split("_")[1]
    assert rows[0].expires_at > rows[0].created_at


def test_sign_out_ends_the_session_on_the_server(client: ApiClient, tokens: Tokens) -> None:
    """After sign-out the same cookie no longer opens a page, even if a browser kept it."""
    cookie = session(client, tokens.read)
    assert client.get("/ui/records", headers=cookie).status_code == 200
    assert client.post("/ui/logout", headers=cookie).status_code == 303
    assert client.get("/ui/records", headers=cookie).status_code == 401


def test_revoking_the_token_ends_its_sessions(
    client: ApiClient, tokens: Tokens, app: FastAPI
) -> None:
    """A session lasts only while its token is valid: revoking the token signs the browser out."""
    cookie = session(client, tokens.read)
    assert revoke_token(app.state.gatekeeper.engine, tokens.read.split("_")[1])
    assert client.get("/ui/", headers=cookie).status_code == 401


def test_a_lapsed_session_is_refused_and_cleared(
    client: ApiClient, tokens: Tokens, app: FastAPI
) -> None:
    """A session past its lifetime gives 401; the next sign-in deletes the lapsed row."""
    engine = app.state.gatekeeper.engine
    with engine.connect() as connection:
        principal = authenticate(connection, tokens.read)
    assert principal is not None
    old = open_session(engine, principal, datetime.now(UTC) - timedelta(hours=SESSION_HOURS + 1))
    lapsed = {"Cookie": f"{COOKIE}={old}"}
    assert client.get("/ui/", headers=lapsed).status_code == 401
    session(client, tokens.read)
    with engine.connect() as connection:
        assert len(connection.execute(select(PageSessionRow.__table__)).all()) == 1


def test_login_sets_a_strict_httponly_cookie(client: ApiClient, tokens: Tokens) -> None:
    """A valid read token posted to /ui/login redirects to the list with an HttpOnly,
    SameSite=Strict cookie, Secure when the request came over HTTPS and only then."""
    form = {"token": tokens.read}
    remote = client.post("https://evidence.example/ui/login", data=form)
    assert remote.status_code == 303
    assert remote.headers["location"] == "/ui/"
    cookie = remote.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for flag in ("HttpOnly", "SameSite=strict", "Secure", "Path=/ui"):
        assert flag in cookie
    plain = client.post("/ui/login", data=form, headers={"X-Forwarded-Proto": "https"})
    assert "Secure" not in plain.headers["set-cookie"]
    assert "HttpOnly" in plain.headers["set-cookie"]


def test_login_with_a_bad_token_shows_the_form_again(client: ApiClient, tokens: Tokens) -> None:
    """A wrong or ingest-only token is 401 with the form and a sentence, never echoing it."""
    for token in ("gk_abc_<b>secret</b>", tokens.ingest, ""):
        response = client.post("/ui/login", data={"token": token})
        assert response.status_code == 401
        assert "set-cookie" not in response.headers
        assert 'name="token"' in response.text
        assert 'role="alert"' in response.text
        assert "secret" not in response.text
        assert not token or token not in response.text


def test_logout_forgets_the_cookie(client: ApiClient, tokens: Tokens) -> None:
    """POST /ui/logout expires the cookie and goes back to the sign-in form."""
    response = client.post("/ui/logout", headers=session(client, tokens.read))
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/login"
    assert (
        "Max-Age=0" in response.headers["set-cookie"]
        or "expires=" in response.headers["set-cookie"]
    )


def test_records_list_shows_columns_and_filters(
    client: ApiClient, tokens: Tokens, stored: Stored
) -> None:
    """The list shows every record with its verdict badge; filters keep the matching ones (a
    bare until date includes that day)."""
    listing = client.get("/ui/records", headers=session(client, tokens.read))
    assert listing.status_code == 200
    assert listing.text.count('class="badge pass"') == 2
    assert listing.text.count('class="badge fail"') == 1
    assert "alice, bob" in listing.text
    assert "iso9001-release" in listing.text
    assert "refs/pull/7/merge" in listing.text
    failing = client.get(
        "/ui/records?verdict=fail&project=&since=", headers=session(client, tokens.read)
    )
    assert failing.status_code == 200
    assert f"/ui/records/{stored.failing}" in failing.text
    assert f"/ui/records/{stored.passing[0]}" not in failing.text
    by_ref = client.get("/ui/records?ref_prefix=refs/heads/", headers=session(client, tokens.read))
    assert by_ref.text.count("/ui/records/") == 2
    future = client.get("/ui/records?since=2999-01-01", headers=session(client, tokens.read))
    assert "No records match" in future.text
    today = datetime.now(UTC).date().isoformat()
    until_today = client.get(f"/ui/records?until={today}", headers=session(client, tokens.read))
    assert until_today.text.count("/ui/records/") == 3


def test_bad_filters_and_foreign_projects_are_html_errors(
    client: ApiClient, tokens: Tokens, stored: Stored
) -> None:
    """A bad date or verdict is a 422 page; another project's listing is a 403 page
    and another project's record id a 404 page that does not name the project."""
    for query in ("since=yesterday", "verdict=maybe", "older=abc", "kind=tag", "sample=0"):
        response = client.get(f"/ui/records?{query}", headers=session(client, tokens.read))
        assert response.status_code == 422, query
        assert response.headers["content-type"].startswith("text/html")
    other = client.get("/ui/records?project=other/thing", headers=session(client, tokens.read))
    assert other.status_code == 403
    foreign = client.get(
        f"/ui/records/{stored.failing}", headers=session(client, tokens.read_other)
    )
    assert foreign.status_code == 404
    assert "acme/" not in foreign.text


def test_paging_goes_older_then_newer_keeping_the_filters(
    client: ApiClient, tokens: Tokens, stored: Stored
) -> None:
    """Newest first in pages of two: Older leads to the oldest record, Newer back, and both
    links keep the filters and the page size."""
    first = client.get("/ui/records?limit=2&verdict=", headers=session(client, tokens.read))
    assert first.text.count("/ui/records/") == 2
    assert first.text.index(stored.passing[1]) < first.text.index(stored.failing)
    assert "<strong>3</strong> records match" in first.text
    found = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert found is not None
    older_url = html.unescape(found.group(1))
    assert "limit=2" in older_url
    second = client.get(older_url, headers=session(client, tokens.read))
    assert second.status_code == 200
    assert f"/ui/records/{stored.passing[0]}" in second.text
    assert second.text.count("/ui/records/") == 1
    assert 'rel="next"' not in second.text
    back = re.search(r'href="([^"]+)" rel="prev"', second.text)
    assert back is not None
    newer = client.get(html.unescape(back.group(1)), headers=session(client, tokens.read))
    assert newer.text.count("/ui/records/") == 2
    assert f"/ui/records/{stored.failing}" in newer.text


def test_record_page_escapes_the_pr_title(
    client: ApiClient, tokens: Tokens, stored: Stored
) -> None:
    """A PR title holding <script> is shown as text, never as markup."""
    response = client.get(f"/ui/records/{stored.failing}", headers=session(client, tokens.read))
    assert response.status_code == 200
    assert "<script" not in response.text
    assert "Fix &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; friends" in response.text
    assert "script-src" not in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_record_page_shows_rules_facts_clauses_and_proof(
    client: ApiClient, tokens: Tokens, stored: Stored
) -> None:
    """The record page lists each rule with its clause, the facts, and a verified proof."""
    text = client.get(f"/ui/records/{stored.failing}", headers=session(client, tokens.read)).text
    assert "2 tests failed, none may fail" in text
    assert "8.6 release of products and services" in text
    assert "8.3.4 design and development controls" in text
    assert "verified against checkpoint of size 3" in text
    assert 'href="https://github.example/acme/widget/issues/12"' in text
    assert 'href="https://ci.example/run/2"' in text
    assert "alice, bob" in text
    assert "8.7 control of nonconforming outputs" in text
    assert f'href="/ui/records/{stored.failing}/json"' in text
    assert 'href="/ui/export?project=acme%2Fwidget"' in text


def test_raw_json_and_export_links_answer(
    client: ApiClient, tokens: Tokens, stored: Stored
) -> None:
    """The raw-JSON link gives the API record; the export link a zip bundle of the project."""
    record = client.get(
        f"/ui/records/{stored.passing[0]}/json", headers=session(client, tokens.read)
    )
    assert record.json()["id"] == stored.passing[0]
    assert record.json()["receipt"]["checkpoint"]["size"] == 3
    bundle = client.get("/ui/export?project=acme/widget", headers=session(client, tokens.read))
    assert bundle.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(bundle.content)).namelist()
    missing = client.get("/ui/records/does-not-exist", headers=session(client, tokens.read))
    assert missing.status_code == 404
    assert "does-not-exist" in missing.text


def test_log_page_shows_checkpoint_and_keys(
    client: ApiClient, tokens: Tokens, stored: Stored
) -> None:
    """The log page shows the newest checkpoint's size, root, note and the signing key."""
    checkpoint = client.get(
        "/v1/log/checkpoint", headers={"Authorization": f"Bearer {tokens.read}"}
    )
    text = client.get("/ui/log", headers=session(client, tokens.read)).text
    assert checkpoint.json()["root_hash"] in text
    assert checkpoint.json()["key_id"] in text
    assert "gatekeeper.local/log\n3\n" in text
    assert "BEGIN PUBLIC KEY" in text


def test_empty_log_and_stylesheet(client: ApiClient, tokens: Tokens) -> None:
    """An empty log says so; the pages stay out of the OpenAPI schema; the CSS is served."""
    assert "log is empty" in client.get("/ui/log", headers=session(client, tokens.read)).text
    assert (
        "No records match" in client.get("/ui/records", headers=session(client, tokens.read)).text
    )
    assert not [path for path in client.get("/openapi.json").json()["paths"] if "/ui" in path]
    css = client.get("/ui/static/style.css")
    assert css.headers["content-type"].startswith("text/css")
    assert ".badge.pass" in css.text
