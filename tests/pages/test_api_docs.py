"""The OpenAPI page /docs: Swagger UI from the service's own files with a CSP of its own; a
setting turns it off (tests/pages/test_api_docs_browser.py opens it in Chromium, offline)."""

from __future__ import annotations

from pathlib import Path

from gatekeeper.config import Settings
from gatekeeper.service.app import create_app
from tests.service.live import ApiClient


def _directives(policy: str) -> dict[str, str]:
    pairs = (part.strip().partition(" ") for part in policy.split(";") if part.strip())
    return {name: value for name, _, value in pairs}


def test_the_docs_page_runs_only_the_services_own_scripts(client: ApiClient) -> None:
    """/docs allows scripts and connections to the service itself, no inline script, no eval,
    no other host; its script is served by the service."""
    page = client.get("/docs")
    assert page.status_code == 200
    policy = _directives(page.headers["content-security-policy"])
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in page.headers["content-security-policy"]
    assert "<script>" not in page.text  # every script has a src on the service
    assert 'src="/docs/assets/swagger-ui-bundle.js"' in page.text
    bundle = client.get("/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    assert bundle.headers["content-type"].startswith("text/javascript")
    assert "script-src" not in bundle.headers["content-security-policy"]


def test_a_docs_file_outside_the_list_is_a_404(client: ApiClient) -> None:
    """Only the page's own files are served: other names, and paths out of the folder, are 404s."""
    for name in ("LICENSE", "README.md", "..%2F..%2Fapp.py", "swagger-ui-bundle.js.map"):
        response = client.get(f"/docs/assets/{name}")
        assert response.status_code == 404, name
        assert response.headers["content-type"] == "application/json"


def test_the_setting_turns_the_docs_page_off(tmp_path: Path) -> None:
    """GATEKEEPER_API_DOCS=false: /docs and its files are 404s, /openapi.json stays."""
    app = create_app(Settings(data_dir=tmp_path / "data", api_docs=False))
    client = ApiClient(app)
    try:
        assert client.get("/docs").status_code == 404
        assert client.get("/docs/assets/docs.js").status_code == 404
        assert client.get("/openapi.json").status_code == 200
    finally:
        client.close()
        app.state.gatekeeper.engine.dispose()
