"""The registers (10.2, 8.7) and trends (9.1.3) pages, and the SVG charts they draw."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

from gatekeeper.service.pages.svg import Series, count_ceiling, line_chart, nice_ceiling
from tests.pages.conftest import History, Tokens, session
from tests.service.live import ApiClient

_SVG = "{http://www.w3.org/2000/svg}"


def _rows(text: str) -> list[str]:
    body = text[text.index("<tbody>") : text.index("</tbody>")]
    return body.split("<tr")[1:]


def test_nonconformity_register_shows_corrections_and_open_ones(
    client: ApiClient, tokens: Tokens, history: History
) -> None:
    """Each failed gate is listed newest first: PR 7's with its correction, PR 8 and the
    release open."""
    text = client.get("/ui/registers/nonconformities", headers=session(client, tokens.read)).text
    assert "<strong>3</strong> nonconformities, <strong>2</strong> open." in text
    rows = _rows(text)
    assert [history.release in rows[0], history.failed_open in rows[1]] == [True, True]
    assert history.failed_fixed in rows[2]
    assert f'href="/ui/records/{history.correction}"' in rows[2]
    assert '<span class="badge pass">corrected</span>' in rows[2]
    assert '<span class="badge fail">open</span>' in rows[1]
    assert "<code>tests-pass</code>" in rows[1]
    narrowed = client.get(
        "/ui/registers/nonconformities?project=acme/widget&since=2999-01-01",
        headers=session(client, tokens.read),
    ).text
    assert "No gate failed in these records." in narrowed


def test_concession_register_marks_expired_and_expiring(
    client: ApiClient, tokens: Tokens, history: History
) -> None:
    """Each waiver used is listed with approver, reason, expiry, ticket and the record it let
    pass; the expired one comes first and is marked, the one expiring in 5 days too."""
    text = client.get("/ui/registers/concessions", headers=session(client, tokens.read)).text
    rows = _rows(text)
    assert len(rows) == 2
    gone = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=3)).isoformat()
    assert rows[0].startswith(' class="expired"')
    assert "<code>four-eyes</code>" in rows[0]
    assert f"<td>{gone}</td>" in rows[0]
    assert f'href="/ui/records/{history.waived_expired}"' in rows[0]
    assert rows[1].startswith(' class="expiring"')
    assert "expires within 14 days" in rows[1]
    for shown in ("quality@acme", "flaky upstream", "QA-12", history.waived):
        assert shown in rows[1]


def test_trends_page_draws_four_charts_with_tables(
    client: ApiClient, tokens: Tokens, history: History
) -> None:
    """The project gets pass rate, coverage, tests and flaky charts as SVG, each with a table
    of the same weekly values; the page loads nothing but its own stylesheet."""
    response = client.get("/ui/trends?project=acme/widget", headers=session(client, tokens.read))
    assert response.status_code == 200
    text = response.text
    assert text.count('<svg class="chart"') == 4
    assert text.count('<table class="chart-table">') == 4
    monday = dt.datetime.now(dt.UTC).date()
    monday -= dt.timedelta(days=monday.weekday())
    assert f'<tr><td>{monday.isoformat()}</td><td class="num">50 %</td></tr>' in text
    assert "Pass rate of acme/widget per week" in text
    assert not re.search(r'(src|href)="(https?:)?//', text)


def test_chart_has_axes_gaps_and_escaped_text() -> None:
    """A chart names its axes and ticks, leaves a gap for an unmeasured week, and escapes
    hostile labels."""
    series = Series(
        "Coverage <b>", ["w1", "w2", "<script>", "w4"], [0.5, None, 0.7, 0.9], 1.0, "lines",
        lambda v: f"{v * 100:.0f} %",
    )  # fmt: skip
    svg = str(line_chart(series, "c1"))
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter(f"{_SVG}text")]
    assert {"0 %", "50 %", "100 %", "week (Monday, UTC)", "lines"} <= set(texts)
    assert "<script>" in texts  # as text, escaped in the markup
    assert "<script>" not in svg
    assert root.find(f"{_SVG}title").text == "Coverage <b>"  # type: ignore[union-attr]
    lines = list(root.iter(f"{_SVG}polyline"))
    assert len(lines) == 1  # w1 stands alone, w3-w4 are joined
    assert len(list(root.iter(f"{_SVG}circle"))) == 3
    assert [nice_ceiling(v) for v in (0, 7, 40, 101)] == [1.0, 10.0, 50.0, 200.0]
    assert [count_ceiling(v) for v in (0, 3, 5, 40, 41, 950)] == [4, 4, 8, 40, 80, 2000]
