"""The audit report in real headless Chromium against a real `gatekeeper serve` process: sign
in, open the report, download its PDF and CSV."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from gatekeeper.config import Settings
from gatekeeper.service.app import engine_for
from gatekeeper.service.auth import create_token
from tests.pages.evidence import HOSTILE_TITLE, verdict_statement
from tests.pages.test_browser import BROWSER_MARKS, CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from tests.service.live import RunningService, start_service

pytestmark = BROWSER_MARKS

sync_api = pytest.importorskip("playwright.sync_api", reason="install the dev extra (playwright)")


@dataclass(frozen=True)
class Site:
    """A running service holding three records of acme/widget, a read token for it, and the id
    of the failing one."""

    service: RunningService
    read_token: str
    failing_id: str


pypdf = pytest.importorskip("pypdf", reason="install the dev extra (pypdf)")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A `gatekeeper serve` process holding a passing, a failing (hostile title) and a passing
    record of acme/widget, and a read token for it."""
    with start_service(tmp_path_factory.mktemp("report")) as service:
        with engine_for(Settings(data_dir=service.data_dir)) as engine:
            read_token = create_token(engine, ["read"], ["acme/widget"])[0]
        headers = {"Authorization": f"Bearer {service.admin_token}"}
        ids = []
        with httpx.Client(base_url=service.url, headers=headers) as http:
            for n, passing, title in (
                (1, True, "Add widget"),
                (2, False, HOSTILE_TITLE),
                (3, True, "x"),
            ):
                statement = verdict_statement(n, passing=passing, title=title)
                response = http.post(
                    "/v1/evidence", json={"project": "acme/widget", "statement": statement}
                )
                assert response.status_code == 201, response.text
                ids.append(response.json()["id"])
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


def test_auditor_opens_the_report_and_downloads_its_pdf_and_csv(
    site: Site, browser: sync_api.Browser, tmp_path: Path
) -> None:
    """Signed in, the auditor opens the report of acme/widget, sees the failed gate in the
    registers, and downloads the PDF (with the bundle it names) and the CSV (one row per record)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page.set_default_timeout(60_000)
    page.goto(f"{site.service.url}/ui/login")
    page.fill("#token", site.read_token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.service.url}/ui/")
    page.goto(f"{site.service.url}/ui/report?project=acme/widget")
    assert page.inner_text("h1") == "acme/widget"
    assert site.failing_id in page.inner_text("#nonconformities")
    assert HOSTILE_TITLE in page.inner_text("#changes")  # shown as text, not run
    assert page.locator("#trends svg").count() == 4
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "report-1280.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0

    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="PDF", exact=True).click()
    pdf_path = tmp_path / pdf_download.value.suggested_filename
    pdf_download.value.save_as(pdf_path)
    assert pdf_path.name.startswith("gatekeeper-report-acme_widget-start-now")
    reader = pypdf.PdfReader(pdf_path)
    assert len(reader.pages) > 1
    text = "".join("".join(p.extract_text() for p in reader.pages).split())
    assert "acme/widget" in text
    ((_name, [bundle]),) = reader.attachments.items()
    assert hashlib.sha256(bundle).hexdigest() in text

    with page.expect_download() as csv_download:
        page.get_by_role("link", name="CSV", exact=True).click()
    csv_path = tmp_path / csv_download.value.suggested_filename
    csv_download.value.save_as(csv_path)
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text(encoding="utf-8"))))
    assert len(rows) == 3
    assert [row["verdict"] for row in rows] == ["pass", "fail", "pass"]
    assert rows[1]["record_id"] == site.failing_id
    page.close()


def test_report_fits_a_phone(site: Site, browser: sync_api.Browser) -> None:
    """At 390 px the report never scrolls sideways and is kept as a screenshot."""
    page = browser.new_page(viewport={"width": 390, "height": 900})
    page.set_default_timeout(60_000)
    page.goto(f"{site.service.url}/ui/login")
    page.fill("#token", site.read_token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.service.url}/ui/")
    page.goto(f"{site.service.url}/ui/report?project=acme/widget")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "report-390.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    page.close()
