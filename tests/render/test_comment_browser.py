"""The PR comment rendered by GitHub's parser (cmark-gfm) and shown in headless Chromium: what a
reviewer sees has one heading, closed sections, no image or foreign link, and says how to pass."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pages.test_browser import BROWSER_MARKS, CHROMIUM, CHROMIUM_ARGS
from tests.render.comment_page import comment_html

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip("playwright.sync_api", reason="install the dev extra (playwright)")


@pytest.fixture(scope="module")
def page() -> Iterator[sync_api.Page]:
    """The comment page in Debian's Chromium, every network request refused."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.route("**/*", lambda route: route.abort())
        page.set_content(comment_html(), wait_until="load")
        yield page
        browser.close()


def test_rendered_comment_has_the_structure_gatekeeper_wrote(page: sync_api.Page) -> None:
    """One heading, the rule table with four cells a row, two closed <details> (failures and
    findings), no image, and links only to the run, the record and the diff."""
    assert page.locator("h3").count() == 1
    assert page.locator("h3").inner_text().startswith("✗ Gatekeeper: fail")
    rows = page.locator("table tbody tr")
    assert rows.count() == 6
    for index in range(rows.count()):
        assert rows.nth(index).locator("td").count() == 4
    assert page.locator("details").count() == 2
    assert page.locator("img").count() == 0
    hrefs = page.eval_on_selector_all("a", "links => links.map(a => a.href)")
    assert hrefs
    assert all(
        href.startswith(("https://github.com/acme/shop/", "https://evidence.example/records/"))
        for href in hrefs
    )


def test_rendered_comment_shows_how_to_pass(page: sync_api.Page) -> None:
    """The reader sees the failing test by name (a hostile name as plain text), the changed
    lines no test ran, linked to the diff, and the findings by level."""
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    text = page.locator("body").inner_text()
    assert "shop.tests.test_refund.test_refund_rounding" in text
    assert "test_pay</details>" in text
    assert "@acme/security ![ok](https://evil.example/x.png)" in text  # in a code span: inert
    assert "Changed lines no test ran" in text
    assert page.locator("a", has_text="12-14").count() == 1
    assert "Findings: 3 (1 error, 2 warning, 0 note) · 1 new on changed lines" in text
    assert "B105" in text


def test_rendered_comment_screenshot(page: sync_api.Page, tmp_path: Path) -> None:
    """The page renders to a screenshot (docs/images/pr-comment-1280.png is made the same way
    by `python -m tests.render.comment_page`)."""
    shot = tmp_path / "comment.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
