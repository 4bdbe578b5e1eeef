"""The auditor pages in real headless Chromium against a real `gatekeeper serve` process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from gatekeeper.config import Settings
from gatekeeper.service.app import engine_for
from gatekeeper.service.auth import create_token
from tests.pages.evidence import HOSTILE_TITLE, verdict_statement
from tests.service.live import RunningService, start_service

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="install Debian's chromium: apt-get install chromium",
    ),
]

sync_api = pytest.importorskip("playwright.sync_api", reason="install the dev extra (playwright)")


@dataclass(frozen=True)
class Site:
    """A running service holding three records, and a read token for it."""

    service: RunningService
    read_token: str
    failing_id: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A `gatekeeper serve` process on a free loopback port, with records stored via the API."""
    with start_service(tmp_path_factory.mktemp("pages")) as service:
        with engine_for(Settings(data_dir=service.data_dir)) as engine:
            read_token = create_token(engine, ["read"], ["acme/widget"])[0]
        headers = {"Authorization": f"Bearer {service.admin_token}"}
        ids = []
        with httpx.Client(base_url=service.url, headers=headers) as http:
            for n, passing, title in ((1, True, "Add widget"), (2, False, HOSTILE_TITLE)):
                statement = verdict_statement(n, passing=passing, title=title)
                response = http.post(
                    "/v1/evidence", json={"project": "acme/widget", "statement": statement}
                )
                assert response.status_code == 201, response.text
                ids.append(response.json()["id"])
            again = http.post(
                "/v1/evidence", json={"project": "acme/widget", "statement": verdict_statement(3)}
            )
            assert again.status_code == 201
        yield Site(service, read_token, ids[1])


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser)."""
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def test_auditor_signs_in_filters_and_opens_a_verified_record(
    site: Site, browser: sync_api.Browser, tmp_path: Path
) -> None:
    """Sign in through the form, see the list, filter by verdict, open the record, see the
    rules and "verified", and keep a screenshot."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(15_000)
    page.goto(f"{site.service.url}/ui/")
    assert "Sign in needed" in page.inner_text("h1")
    page.get_by_role("link", name="Sign in", exact=True).click()
    page.wait_for_url("**/ui/login")
    page.fill("#token", site.read_token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.service.url}/ui/")
    assert page.locator("table.records tbody tr").count() == 3
    assert page.evaluate("document.cookie") == ""  # HttpOnly: invisible to scripts
    listing = tmp_path / "records.png"
    page.screenshot(path=str(listing), full_page=True)
    assert listing.stat().st_size > 10_000
    page.select_option("select[name=verdict]", "fail")
    page.click("form.filters button")
    page.wait_for_url("**verdict=fail**")
    rows = page.locator("table.records tbody tr")
    assert rows.count() == 1
    assert rows.first.locator(".badge").inner_text().lower() == "fail"
    rows.first.locator("a").click()
    page.wait_for_url(f"**/ui/records/{site.failing_id}")
    assert page.locator("table.rules tbody tr").count() == 2
    assert "2 tests failed, none may fail" in page.inner_text("table.rules")
    assert page.inner_text("#proof-status") == "verified against checkpoint of size 3"
    assert HOSTILE_TITLE in page.inner_text("main")  # shown as text, not run
    shot = tmp_path / "record.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    page.close()
    assert site.read_token not in site.service.log_path.read_text()


def test_log_page_then_sign_out(site: Site, browser: sync_api.Browser, tmp_path: Path) -> None:
    """The Log link shows the signed checkpoint of size 3; after signing out pages ask to sign
    in again."""
    page = browser.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{site.service.url}/ui/login")
    page.fill("#token", site.read_token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.service.url}/ui/")
    page.get_by_role("link", name="Log", exact=True).click()
    page.wait_for_url("**/ui/log")
    assert "Latest signed checkpoint" in page.inner_text("main")
    assert page.inner_text("dl.pairs dd >> nth=0") == "3"
    page.screenshot(path=str(tmp_path / "log.png"), full_page=True)
    assert (tmp_path / "log.png").stat().st_size > 10_000
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{site.service.url}/ui/login")
    page.goto(f"{site.service.url}/ui/log")
    assert "Sign in needed" in page.inner_text("h1")
    page.close()


SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
_WIDTHS = (1280, 390)


def _sign_in(page: sync_api.Page, site: Site) -> None:
    page.goto(f"{site.service.url}/ui/login")
    page.fill("#token", site.read_token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.service.url}/ui/")


def test_every_page_fits_a_phone_and_is_kept_as_screenshots(
    site: Site, browser: sync_api.Browser
) -> None:
    """Each page at 1280 and 390 px is saved under build/screenshots/ and never scrolls sideways
    on the phone."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pages = {
        "records": "/ui/",
        "records-failed": "/ui/?verdict=fail",
        "record": f"/ui/records/{site.failing_id}",
        "log": "/ui/log",
        "not-found": "/ui/records/no-such-record",
    }
    for width in _WIDTHS:
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.set_default_timeout(15_000)
        _sign_in(page, site)
        for name, path in pages.items():
            page.goto(f"{site.service.url}{path}")
            shot = SCREENSHOTS / f"{name}-{width}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 5_000, shot
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (name, width, overflow)
        page.close()


def test_printed_pages_drop_forms_and_keep_tables_whole(
    site: Site, browser: sync_api.Browser
) -> None:
    """On paper the filter and sign-out forms vanish and no table is cut at its right edge."""
    page = browser.new_page(viewport={"width": 800, "height": 900})
    page.set_default_timeout(15_000)
    _sign_in(page, site)
    page.emulate_media(media="print")
    for path in ("/ui/", f"/ui/records/{site.failing_id}"):
        page.goto(f"{site.service.url}{path}")
        shown = page.evaluate(
            "[...document.querySelectorAll('form')].filter(f => f.offsetParent !== null).length"
        )
        assert shown == 0, path
        clipped = page.evaluate(
            "[...document.querySelectorAll('table')]"
            ".filter(t => t.scrollWidth > t.clientWidth + 1).length"
        )
        assert clipped == 0, path
    page.close()


def test_every_control_has_a_label_and_keyboard_reaches_it(
    site: Site, browser: sync_api.Browser
) -> None:
    """Every input and select on the records page has an accessible name, and Tab reaches the
    filter button."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(15_000)
    _sign_in(page, site)
    unlabelled = page.evaluate(
        "[...document.querySelectorAll('input, select, textarea')]"
        ".filter(c => c.type !== 'hidden' && !(c.labels && c.labels.length)"
        " && !c.getAttribute('aria-label')).map(c => c.name)"
    )
    assert unlabelled == []
    reached = set()
    for _ in range(40):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.textContent.trim() || ''"))
    assert "Filter" in reached
    page.close()
