"""The OpenAPI page /docs in real headless Chromium against a real `gatekeeper serve` process,
every request that does not go to the service refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pages.test_browser import BROWSER_MARKS, CHROMIUM, CHROMIUM_ARGS
from tests.service.live import RunningService, start_service

pytestmark = BROWSER_MARKS

sync_api = pytest.importorskip("playwright.sync_api", reason="install the dev extra (playwright)")


@pytest.fixture
def service(tmp_path: Path) -> Iterator[RunningService]:
    """A `gatekeeper serve` process on a free loopback port (default settings: /docs on)."""
    with start_service(tmp_path) as running:
        yield running


@pytest.fixture
def page(service: RunningService) -> Iterator[sync_api.Page]:
    """A Chromium page (Debian's, never a downloaded browser)."""
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        tab = chromium.new_page(viewport={"width": 1280, "height": 900})
        tab.set_default_timeout(15_000)
        yield tab
        chromium.close()


def test_docs_lists_the_operations_with_no_request_leaving_the_service(
    service: RunningService, page: sync_api.Page
) -> None:
    """/docs shows the API's operations and opens one; every request the page makes goes to
    the service (any other is refused and named), and the browser reports no CSP violation."""
    outside: list[str] = []
    console: list[str] = []

    def only_the_service(route: sync_api.Route) -> None:
        url = route.request.url
        if url.startswith(f"{service.url}/"):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    page.route("**/*", only_the_service)
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.goto(f"{service.url}/docs")
    page.locator(".opblock").first.wait_for()
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert {"/v1/evidence", "/v1/log/checkpoint", "/v1/report", "/healthz"} <= set(paths)
    assert "Gatekeeper evidence service" in page.inner_text(".information-container")
    page.locator(".opblock-summary").first.click()
    page.locator(".opblock-body .parameters-container").first.wait_for()
    assert outside == []
    assert not [line for line in console if "Content Security Policy" in line], console
