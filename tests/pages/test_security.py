"""Web security of the service's responses and of the pages' sign-in and sign-out forms."""

from __future__ import annotations

import re

from gatekeeper.config import Settings
from gatekeeper.service.app import create_app
from tests.pages.conftest import Stored, Tokens, session
from tests.service.live import ApiClient

_EXPECTED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


def _assert_hardened(headers: dict[str, str], what: str) -> None:
    for name, value in _EXPECTED.items():
        assert headers.get(name) == value, (what, name)
    policy = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in policy, what
    assert "script-src" not in policy, what
    assert "default-src 'none'" in policy, what


def test_every_response_carries_the_security_headers(
    client: ApiClient, tokens: Tokens, stored: Stored
) -> None:
    """Pages, JSON, the export download, 404s and the stylesheet all deny framing and sniffing."""
    reader = session(client, tokens.read)
    answers = {
        "page": client.get("/ui/", headers=reader),
        "api": client.get("/v1/keys"),
        "download": client.get("/ui/export?project=acme/widget", headers=reader),
        "api 404": client.get("/v1/nothing-here"),
        "page 404": client.get("/ui/records/no-such-id", headers=reader),
        "css": client.get("/ui/static/style.css"),
        "docs script": client.get("/docs/assets/docs.js"),
        "health": client.get("/healthz"),
    }
    assert answers["download"].status_code == 200
    assert answers["api 404"].status_code == 404
    for what, response in answers.items():
        _assert_hardened(dict(response.headers), what)


def test_sign_in_and_sign_out_from_another_site_are_refused(
    client: ApiClient, tokens: Tokens
) -> None:
    """A form posted from another origin or marked cross-site signs nobody in or out."""
    form = {"token": tokens.read}
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "http://testserver"},
    ):
        login = client.post("/ui/login", data=form, headers=headers)
        assert login.status_code == 403, headers
        assert "set-cookie" not in login.headers
        logout = client.post("/ui/logout", headers=headers | session(client, tokens.read))
        assert logout.status_code == 403, headers
        assert "set-cookie" not in logout.headers
    for own in (
        {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
        {"Origin": "null", "Sec-Fetch-Site": "same-origin"},
    ):
        assert client.post("/ui/login", data=form, headers=own).status_code == 303
        assert client.post("/ui/logout", headers=own).status_code == 303


def test_forwarded_https_counts_only_from_a_trusted_proxy(
    settings: Settings, tokens: Tokens
) -> None:
    """Behind a trusted proxy saying X-Forwarded-Proto: https the cookie is Secure."""
    app = create_app(settings.model_copy(update={"trusted_proxies": ["127.0.0.1"]}))
    client = ApiClient(app)
    try:
        response = client.post(
            "/ui/login", data={"token": tokens.read}, headers={"X-Forwarded-Proto": "https"}
        )
        assert response.status_code == 303
        assert "Secure" in response.headers["set-cookie"]
    finally:
        client.close()
        app.state.gatekeeper.engine.dispose()


def test_openapi_docs_never_load_from_a_cdn(client: ApiClient) -> None:
    """The schema is served; /docs points a browser only at the service's own files, and
    FastAPI's /redoc (a CDN script) is not offered."""
    assert client.get("/openapi.json").status_code == 200
    docs = client.get("/docs")
    assert docs.status_code == 200
    links = re.findall(r'(?:src|href)="([^"]*)"', docs.text)
    assert links, docs.text
    assert all(link.startswith("/docs/assets/") for link in links), links
    redoc = client.get("/redoc")
    assert redoc.status_code == 404
    assert "cdn" not in redoc.text.lower()
