"""The auditor pages in real headless Chromium against a real `gatekeeper serve` process:
an auditor's walk through every page, phones, paper and the keyboard."""

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
from tests.pages.history import History, store_history
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
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
_WIDTHS = (1280, 390)

BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="install Debian's chromium: apt-get install chromium",
    ),
]
"""The marks of every test that drives Chromium (here, the report, /docs and the comment)."""
pytestmark = BROWSER_MARKS

sync_api = pytest.importorskip("playwright.sync_api", reason="install the dev extra (playwright)")


@dataclass(frozen=True)
class Site:
    """A running service holding the workspace history and a hostile record, and a read token."""

    service: RunningService
    read_token: str
    history: History
    hostile_id: str

    def pages(self) -> dict[str, str]:
        """Every page an auditor opens, by screenshot name."""
        return {
            "home": "/ui/",
            "records": "/ui/records",
            "records-failed": "/ui/records?verdict=fail",
            "sample": "/ui/records?sample=3&seed=audit-2026",
            "record-failed": f"/ui/records/{self.history.failed_fixed}",
            "record-waived": f"/ui/records/{self.history.waived}",
            "record-hostile": f"/ui/records/{self.hostile_id}",
            "record-release": f"/ui/records/{self.history.release}",
            "nonconformities": "/ui/registers/nonconformities",
            "concessions": "/ui/registers/concessions",
            "trends": "/ui/trends?project=acme/widget",
            "releases": "/ui/releases",
            "log": "/ui/log",
            "not-found": "/ui/records/no-such-record",
        }


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A `gatekeeper serve` process on a free loopback port, with records stored via the API."""
    with start_service(tmp_path_factory.mktemp("pages")) as service:
        with engine_for(Settings(data_dir=service.data_dir)) as engine:
            read_token = create_token(engine, ["read"], ["acme/widget"])[0]
        with httpx.Client(base_url=service.url) as http:
            history = store_history(http, service.admin_token)
            hostile = http.post(
                "/v1/evidence",
                json={
                    "project": "acme/widget",
                    "statement": verdict_statement(40, passing=False, title=HOSTILE_TITLE),
                },
                headers={"Authorization": f"Bearer {service.admin_token}"},
            )
            assert hostile.status_code == 201, hostile.text
        yield Site(service, read_token, history, hostile.json()["id"])


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser)."""
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def _page(browser: sync_api.Browser, width: int = 1280) -> sync_api.Page:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.set_default_timeout(15_000)
    return page


def _nav(page: sync_api.Page, name: str) -> sync_api.Locator:
    return page.locator("header nav").get_by_role("link", name=name, exact=True)


def _sign_in(page: sync_api.Page, site: Site) -> None:
    page.goto(f"{site.service.url}/ui/login")
    page.fill("#token", site.read_token)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{site.service.url}/ui/")


def test_auditor_signs_in_filters_samples_and_opens_a_record(
    site: Site, browser: sync_api.Browser
) -> None:
    """Sign in through the form, see the project, filter the failed records, draw a sample,
    open a record and see its rules verified; the token never reaches a script or the log."""
    page = _page(browser)
    page.goto(f"{site.service.url}/ui/records")
    assert "Sign in needed" in page.inner_text("h1")
    page.get_by_role("link", name="Sign in", exact=True).click()
    page.wait_for_url("**/ui/login")
    page.fill("#token", site.read_token)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{site.service.url}/ui/")
    assert "acme/widget" in page.inner_text("section.project h2")
    assert page.evaluate("document.cookie") == ""  # HttpOnly: invisible to scripts
    _nav(page, "Records").click()
    page.wait_for_url("**/ui/records")
    assert page.locator("table.records tbody tr").count() == 7
    page.select_option("select[name=verdict]", "fail")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**verdict=fail**")
    assert page.locator("table.records tbody tr").count() == 4
    assert "4 records match these filters" in page.inner_text("#count")
    page.fill("input[name=sample]", "2")
    page.get_by_role("button", name="Sample at random").click()
    page.wait_for_url("**seed=**")
    assert "verdict=fail" in page.url
    seed = page.inner_text("#seed")
    assert len(seed) == 8
    assert page.locator("table.records tbody tr").count() == 2
    drawn = page.locator("table.records tbody tr a").all_inner_texts()
    page.reload()
    assert page.locator("table.records tbody tr a").all_inner_texts() == drawn
    page.goto(f"{site.service.url}/ui/records?verdict=fail")
    page.locator(f'a[href="/ui/records/{site.hostile_id}"]').click()
    page.wait_for_url(f"**/ui/records/{site.hostile_id}")
    assert "2 tests failed, none may fail" in page.inner_text("table.rules")
    assert page.inner_text("#proof-status") == "verified against checkpoint of size 7"
    assert HOSTILE_TITLE in page.inner_text("main")  # shown as text, not run
    page.close()
    assert site.read_token not in site.service.log_path.read_text()


def test_auditor_reads_both_registers_trends_and_releases(
    site: Site, browser: sync_api.Browser
) -> None:
    """From the navigation: nonconformities with the open one marked, concessions with the
    expired one marked, four trend charts with their tables, the release with an ungated
    change and its approver."""
    page = _page(browser)
    _sign_in(page, site)
    _nav(page, "Nonconformities").click()
    page.wait_for_url("**/ui/registers/nonconformities")
    assert "4 nonconformities, 3 open." in page.inner_text("#count")
    assert page.locator("table.register .badge.fail").count() == 3
    _nav(page, "Concessions").click()
    page.wait_for_url("**/ui/registers/concessions")
    assert page.locator("tr.expired").count() == 1
    assert page.locator("tr.expiring").count() == 1
    _nav(page, "Trends").click()
    page.wait_for_url("**/ui/trends")
    assert page.locator("svg.chart").count() == 4
    assert page.locator("svg.chart").first.bounding_box()["width"] > 300  # type: ignore[index]
    assert page.locator("table.chart-table").count() == 4
    _nav(page, "Releases").click()
    page.wait_for_url("**/ui/releases")
    card = page.locator("section.release").first
    assert card.locator("tr.ungated").count() == 1
    assert "qa-lead" in card.inner_text()
    card.locator(f'a[href="/ui/records/{site.history.correction}"]').click()
    page.wait_for_url(f"**/ui/records/{site.history.correction}")
    assert "This record corrected the failed record" in page.inner_text("#correction")
    page.close()


def test_sign_out_ends_the_session(site: Site, browser: sync_api.Browser) -> None:
    """After signing out, the pages ask to sign in again."""
    page = _page(browser)
    _sign_in(page, site)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{site.service.url}/ui/login")
    page.goto(f"{site.service.url}/ui/log")
    assert "Sign in needed" in page.inner_text("h1")
    page.close()


def test_every_page_fits_a_phone_and_is_kept_as_screenshots(
    site: Site, browser: sync_api.Browser
) -> None:
    """Each page at 1280 and 390 px is saved under build/screenshots/ and never scrolls sideways."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in _WIDTHS:
        page = _page(browser, width)
        page.goto(f"{site.service.url}/ui/login")
        page.screenshot(path=str(SCREENSHOTS / f"login-{width}.png"), full_page=True)
        _sign_in(page, site)
        for name, path in site.pages().items():
            page.goto(f"{site.service.url}{path}")
            shot = SCREENSHOTS / f"{name}-{width}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 5_000, shot
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (name, width, overflow)
        page.close()


_CLIPPED = """
[...document.querySelectorAll('table, .scroll, pre, svg')]
  .filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).display !== 'none')
  .map(e => e.tagName + '.' + e.className)
"""


def test_printed_pages_drop_forms_and_keep_tables_whole(
    site: Site, browser: sync_api.Browser
) -> None:
    """On paper the forms and navigation vanish and no table is cut at its right edge."""
    page = _page(browser, 800)
    _sign_in(page, site)
    page.emulate_media(media="print")
    for name, path in site.pages().items():
        page.goto(f"{site.service.url}{path}")
        shown = page.evaluate(
            "[...document.querySelectorAll('form, nav')]"
            ".filter(f => f.offsetParent !== null).length"
        )
        assert shown == 0, name
        assert page.evaluate(_CLIPPED) == [], name
    page.goto(f"{site.service.url}/ui/records/{site.history.release}")
    page.pdf(path=str(SCREENSHOTS / "record-release.pdf"))
    page.close()


_CONTROLS = "a[href], button, input:not([type=hidden]), select, textarea, summary"
_UNLABELLED = """
[...document.querySelectorAll('input, select, textarea')]
  .filter(c => c.type !== 'hidden' && !(c.labels && c.labels.length)
               && !c.getAttribute('aria-label'))
  .map(c => c.name)
"""
_NAMELESS = """
[...document.querySelectorAll('a[href], button, summary')]
  .filter(c => !c.textContent.trim() && !c.getAttribute('aria-label')).map(c => c.outerHTML)
"""
_MARK = """
(() => { const all = [...document.querySelectorAll(arguments_selector)];
  return all.indexOf(document.activeElement); })()
"""


def test_tab_reaches_every_control_and_each_has_a_label(
    site: Site, browser: sync_api.Browser
) -> None:
    """On every page, Tab visits each link, button and field in turn, and each has a name."""
    page = _page(browser)
    _sign_in(page, site)
    for name, path in site.pages().items():
        page.goto(f"{site.service.url}{path}")
        assert page.evaluate(_UNLABELLED) == [], name
        assert page.evaluate(_NAMELESS) == [], name
        count = page.locator(_CONTROLS).count()
        reached: set[int] = set()
        for _ in range(3 * count + 10):  # a date field takes one Tab per part
            page.keyboard.press("Tab")
            reached.add(page.evaluate(_MARK.replace("arguments_selector", repr(_CONTROLS))))
            if len(reached - {-1}) == count:
                break
        missing = set(range(count)) - reached
        assert not missing, (name, missing)
    page.close()
