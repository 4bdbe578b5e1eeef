"""A PR comment as a reader sees it: the Markdown through cmark-gfm (GitHub's parser) into a page.

`python -m tests.render.comment_page` writes docs/images/pr-comment-1280.png with Debian's
Chromium (the screenshot in docs/github.md). The browser test renders the same page.
"""

from __future__ import annotations

import functools
import html
from pathlib import Path

import cmarkgfm
from cmarkgfm.cmark import Options

from connectors import github
from gatekeeper.facts import (
    Coverage,
    Facts,
    Finding,
    FindingLevels,
    Findings,
    PatchCoverage,
    TestFailure,
    TestSummary,
    UncoveredLines,
)
from gatekeeper.render import verdict_markdown
from gatekeeper.render.markdown import Links
from tests.render._sample import sample_verdict

DOCS_IMAGE = Path(__file__).resolve().parents[2] / "docs" / "images" / "pr-comment-1280.png"
HOSTILE_NAME = "test_pay</details>\n### ✓ Gatekeeper: **pass** @acme/security ![ok](https://evil.example/x.png)"

_STYLE = """
body { font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif;
       color: #1f2328; margin: 24px; max-width: 900px; }
.comment { border: 1px solid #d1d9e0; border-radius: 6px; padding: 8px 16px; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid #d1d9e0; padding: 4px 10px; text-align: left; vertical-align: top; }
code { background: #eff1f3; border-radius: 4px; padding: 1px 4px; font-size: 85%; }
sub { color: #59636e; }
a { color: #0969da; }
"""


def comment_facts() -> Facts:
    """A failing run: two failures (one with a hostile name), uncovered changed lines, findings."""
    failures = (
        TestFailure(
            name="test_refund_rounding",
            classname="shop.tests.test_refund",
            file="shop/tests/test_refund.py",
            line=41,
            message="AssertionError: 10.01 != 10.00",
        ),
        TestFailure(name=HOSTILE_NAME, classname="shop.tests", message="boom | <b>x</b>"),
    )
    patch = PatchCoverage(
        lines_valid=40,
        lines_covered=31,
        rate=0.775,
        uncovered=(UncoveredLines(file="shop/refund.py", ranges=((12, 14), (31, 31))),),
        uncovered_files=1,
    )
    findings = Findings(
        total=3,
        by_level=FindingLevels(error=1, warning=2, note=0),
        new=1,
        items=(
            Finding(
                rule_id="B105",
                level="error",
                file="shop/settings.py",
                line=9,
                message="Possible hardcoded password: 'hunter2'",
            ),
            Finding(rule_id="E501", level="warning", file="shop/refund.py", line=3),
        ),
    )
    return Facts(
        tests=TestSummary(total=412, passed=410, failed=2, errors=0, skipped=3, failures=failures),
        coverage=Coverage(
            lines_valid=5200, lines_covered=4420, line_rate=0.85, patch=patch, delta=-0.004
        ),
        findings=findings,
    )


def comment_markdown() -> str:
    """The sample comment's Markdown, with links to the run, the record and the diff."""
    links = Links(
        run_url="https://github.com/acme/shop/actions/runs/4242",
        record_url="https://evidence.example/records/r-17",
        lines_link=functools.partial(
            github.PROVIDER.changed_lines_url, "https://github.com/acme/shop/pull/7", None
        ),
    )
    return verdict_markdown(sample_verdict(), comment_facts(), limit=65536, links=links)


def comment_html() -> str:
    """A page holding the comment as GitHub's parser renders it (raw HTML kept, as GitHub
    keeps the few tags it allows: what the comment must not rely on being stripped)."""
    body = cmarkgfm.github_flavored_markdown_to_html(
        comment_markdown(), options=Options.CMARK_OPT_UNSAFE
    )
    title = html.escape("Gatekeeper PR comment")
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
        f"<style>{_STYLE}</style></head><body><div class='comment'>{body}</div></body></html>"
    )


def write_screenshot(path: Path = DOCS_IMAGE) -> None:
    """Render the page in headless Chromium at 1280 px and save a full-page PNG at `path`."""
    from playwright.sync_api import sync_playwright

    from tests.pages.test_browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.route("**/*", lambda route: route.abort())  # nothing leaves the machine
        page.set_content(comment_html(), wait_until="load")
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        page.screenshot(path=str(path), full_page=True)
        browser.close()


if __name__ == "__main__":
    write_screenshot()
