"""The audit report over HTTP (SQLite and PostgreSQL): HTML sections, PDF, CSV and the errors."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from gatekeeper.config import Settings
from gatekeeper.ledger.bundle.verify import verify_bundle
from gatekeeper.service import create_app
from gatekeeper.service.auth import create_token
from gatekeeper.service.report.table import CSV_COLUMNS
from tests.fakes.github import FakeGitHub
from tests.pages.conftest import session
from tests.service.conftest import bearer
from tests.service.live import ApiClient
from tests.service.workspace_data import verdict_statement, waiver

pypdf = pytest.importorskip("pypdf", reason="install the dev extra (pypdf)")

PROJECT = "acme/widget"
PROVIDER_TOKEN = "svc-provider-token-0123456789"
FORMULA_TITLE = '=HYPERLINK("https://evil.example","click")'
HOSTILE_AUTHOR = "<script>alert(1)</script>"
TODAY = dt.datetime.now(dt.UTC).date()
PERIOD = {"project": PROJECT, "since": str(TODAY - dt.timedelta(days=1)), "until": str(TODAY)}


@dataclass(frozen=True)
class Audit:
    """A service holding a project's history, a read token for it and one for another project."""

    api: ApiClient
    read: str
    read_other: str
    ids: list[str]
    head: str


def _release(n: int, change_record: str) -> dict[str, Any]:
    body = verdict_statement(n, number=None, ref="refs/tags/v1.0", event="release")
    body["predicate"]["facts"]["release"] = {
        "tag": "v1.0",
        "previous_tag": "v0.9",
        "changes": [
            {
                "kind": "pr",
                "number": 7,
                "title": "change 2",
                "merge_commit": "d" * 40,
                "record_id": change_record,
                "verdict": "pass",
                "gated": True,
            },
            {
                "kind": "pr",
                "number": 8,
                "title": "change 3",
                "merge_commit": "e" * 40,
                "verdict": "fail",
                "gated": False,
            },
        ],
        "changes_total": 2,
        "changes_ungated": 1,
        "changes_failed": 1,
        "approvals": [{"who": "quinn", "when": "2026-11-11T09:00:00Z", "comment": "ship"}],
    }
    return body


def _confirmed_pass(n: int, head: str) -> dict[str, Any]:
    """PR 7's fix at the fake GitHub's head, so the service confirms its reviews."""
    body = verdict_statement(n, line_rate=0.9)
    body["subject"][0]["digest"]["gitCommit"] = head
    subject = body["predicate"]["facts"]["subject"]
    subject.update(provider="github", commit=head)
    return body


@pytest.fixture
def audit(settings: Settings, tmp_path: Path) -> Iterator[Audit]:
    """PR 7 fails then is fixed (reviews confirmed with a fake GitHub); PR 8 fails, open, with a
    formula for a title; PR 9 passes through a waiver; release v1.0 ships PR 7 and 8."""
    token_file = tmp_path / "provider-token"
    token_file.write_text(PROVIDER_TOKEN + "\n")
    with FakeGitHub(repo=PROJECT, token=PROVIDER_TOKEN) as github:
        github.add_review("erin", "APPROVED")
        providers = [{"provider": "github", "api_url": github.url, "token_file": str(token_file)}]
        app = create_app(settings.model_copy(update={"providers": json.dumps(providers)}))
        engine = app.state.gatekeeper.engine
        ingest = create_token(engine, ["ingest"], [PROJECT])[0]
        api = ApiClient(app)

        def post(body: dict[str, Any]) -> str:
            response = api.post(
                "/v1/evidence", json={"project": PROJECT, "statement": body}, headers=bearer(ingest)
            )
            assert response.status_code == 201, response.text
            return str(response.json()["id"])

        ids = [post(verdict_statement(1, verdict="fail", failed=("coverage-min",)))]
        ids.append(post(_confirmed_pass(2, github.head)))
        hostile = verdict_statement(
            3, verdict="fail", number=8, author=HOSTILE_AUTHOR, failed=("tests-pass",)
        )
        hostile["predicate"]["facts"]["change"]["title"] = FORMULA_TITLE
        ids.append(post(hostile))
        ids.append(
            post(verdict_statement(4, number=9, waivers=(waiver("coverage-min", "2099-12-10"),)))
        )
        ids.append(post(_release(5, ids[1])))
        other = create_token(engine, ["ingest"], ["acme/other"])[0]
        foreign = {"project": "acme/other", "statement": verdict_statement(9, project="acme/other")}
        assert api.post("/v1/evidence", json=foreign, headers=bearer(other)).status_code == 201
        yield Audit(
            api=api,
            read=create_token(engine, ["read"], [PROJECT])[0],
            read_other=create_token(engine, ["read"], ["acme/other"])[0],
            ids=ids,
            head=github.head,
        )
        api.close()
        engine.dispose()


def _get(audit: Audit, token: str | None = None, **params: Any) -> Any:
    headers = bearer(token or audit.read)
    return audit.api.get("/v1/report", params={**PERIOD, **params}, headers=headers)


def _xpath(element: Any, path: str) -> list[Any]:
    return list(element.xpath(path))


def _text(element: Any) -> str:
    return " ".join(" ".join(element.itertext()).split())


def test_html_report_has_every_section_and_marks_what_an_auditor_asks(audit: Audit) -> None:
    """The HTML report holds the cover, policies, changes, releases, both registers, trends, the
    clause table, the sample and how to verify; the waived record is marked, the nonconformity
    names its correction, and the confirmed reviews say by whom and when."""
    response = _get(audit)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    page = lxml_html.fromstring(response.text)
    for section in ("cover", "policies", "changes", "releases", "nonconformities",
                    "concessions", "trends", "clauses", "sample", "verify"):  # fmt: skip
        assert page.get_element_by_id(section) is not None, section
    failed, fixed, open_one, waived, _release_id = audit.ids
    rows = {_xpath(row, ".//td[last()]//code")[0].text: _text(row) for row in
            _xpath(page, '//section[@id="changes"]//tbody/tr')}  # fmt: skip
    assert len(rows) == 4
    assert "WAIVED (coverage-min)" in rows[waived]
    assert "WAIVED" not in rows[fixed]
    assert "reviews: confirmed by the service with github at" in rows[fixed]
    assert "reviews: not checked" in rows[failed]
    nonconformities = _xpath(page, '//section[@id="nonconformities"]//tbody/tr')
    by_failed = {_xpath(row, ".//td[1]//code")[0].text: _text(row) for row in nonconformities}
    assert "corrected" in by_failed[failed]
    assert fixed in by_failed[failed]
    assert "open" in by_failed[open_one]
    concessions = _text(page.get_element_by_id("concessions"))
    assert "quality@acme" in concessions
    assert "QA-12" in concessions
    releases = _text(page.get_element_by_id("releases"))
    assert "v1.0" in releases
    assert "quinn" in releases
    assert "#8 change 3 eeeeeeeeeeee fail not gated" in releases
    clauses = [_xpath(row, "./td[1]")[0].text_content() for row in
               _xpath(page, '//table[@class="clauses"]/tbody/tr')]  # fmt: skip
    assert clauses == ["7.1.5", "7.5.3", "8.3.4", "8.5.2", "8.5.6", "8.6", "8.7", "9.1.3",
                       "9.2", "10.2"]  # fmt: skip
    assert len(_xpath(page, '//section[@id="trends"]//svg')) == 4
    digest = page.get_element_by_id("bundle-digest").text
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert "gatekeeper verify" in _text(page.get_element_by_id("verify"))
    assert HOSTILE_AUTHOR not in response.text  # escaped, never markup
    assert "<script" not in response.text


def test_html_report_allows_only_its_own_inline_style(audit: Audit) -> None:
    """The HTML carries the security headers, a CSP that admits exactly its inline stylesheet,
    no external asset, and is shown inline with a safe file name."""
    response = _get(audit)
    csp = response.headers["content-security-policy"]
    style = re.search(r"<style>(.*?)</style>", response.text, re.S)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in csp
    assert "script-src" not in csp
    assert "default-src 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"] == (
        f'inline; filename="gatekeeper-report-acme_widget-{PERIOD["since"]}-{TODAY}.html"'
    )
    assert not re.search(
        r'(src|href)="(https?:)?//(?!testserver)', response.text.split("<body>")[0]
    )


def test_pdf_report_has_pages_the_project_and_the_bundle_it_names(
    audit: Audit, tmp_path: Path
) -> None:
    """The PDF has more than one page, names the project and the bundle's SHA-256, and carries
    that very bundle, which `gatekeeper verify` accepts with the service's key."""
    response = _get(audit, format="pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith('attachment; filename="gatekeeper')
    assert response.headers["content-security-policy"]
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) > 1
    text = "".join("".join(page.extract_text() for page in reader.pages).split())
    assert PROJECT in text
    ((name, [bundle]),) = reader.attachments.items()
    digest = hashlib.sha256(bundle).hexdigest()
    assert digest in text
    assert name.endswith(".zip")
    keys = audit.api.get("/v1/keys").json()["keys"]
    pem = "".join(key["public_key_pem"] for key in keys).encode()
    zip_path = tmp_path / name
    zip_path.write_bytes(bundle)
    verified = verify_bundle(zip_path, pinned_key_pem=pem)
    assert verified.ok, verified.failures
    assert verified.records == 5  # the period's records of the project, not the other one's


def test_csv_has_one_row_per_record_and_neutralises_formulas(audit: Audit) -> None:
    """The CSV has the header and one row per record of the period; a title a spreadsheet
    would run as a formula starts with an apostrophe."""
    response = _get(audit, format="csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].endswith('.csv"')
    rows = list(csv.reader(io.StringIO(response.text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [r["record_id"] for r in records] == audit.ids
    hostile = records[2]
    assert hostile["title"] == "'" + FORMULA_TITLE
    assert hostile["author"] == HOSTILE_AUTHOR
    assert records[3]["waived"] == "yes"
    assert records[1]["confirmed"].startswith("reviews: confirmed by the service with github")
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in records for cell in r.values())


def test_filters_and_sample_narrow_the_report_reproducibly(audit: Audit) -> None:
    """The records list's filters narrow the report, and the same seed draws the same sample,
    named with its seed in the report and marked in the CSV."""
    failed_only = list(csv.reader(io.StringIO(_get(audit, format="csv", verdict="fail").text)))
    assert [row[0] for row in failed_only[1:]] == [audit.ids[0], audit.ids[2]]
    first = _get(audit, format="csv", sample=2, seed="audit-2026").text
    assert first == _get(audit, format="csv", sample=2, seed="audit-2026").text
    sampled = [row[0] for row in csv.reader(io.StringIO(first)) if row[-1] == "yes"]
    assert len(sampled) == 2
    page = lxml_html.fromstring(_get(audit, sample=2, seed="audit-2026").text)
    assert page.get_element_by_id("seed").text == "audit-2026"
    assert sorted(
        code.text for code in _xpath(page, '//section[@id="sample"]//tbody//td[last()]//code')
    ) == sorted(sampled)


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({"since": "2026-13-01"}, 422, "since"),
        ({"until": "yesterday"}, 422, "until"),
        ({"format": "docx"}, 422, "format"),
        ({"since": "2026-12-02", "until": "2026-12-01"}, 422, "before since"),
        ({"seed": "x"}, 422, "sample"),
        ({"sample": "0"}, 422, "sample"),
        ({"project": "acme/nothing"}, 404, "no project acme/nothing"),
        ({"project": "not a project"}, 422, "project"),
        ({"projet": "acme/widget"}, 422, "unknown query parameter"),
    ],
)
def test_bad_requests_answer_json_errors(
    audit: Audit, params: dict[str, str], status: int, words: str
) -> None:
    """Bad dates, formats, periods and samples are 422, an unknown project 404, as JSON."""
    response = _get(audit, **params)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert words in error["message"]
    assert error["code"]


def test_another_projects_token_gets_the_unknown_project_answer(audit: Audit) -> None:
    """A read token of another project gets the same 404 as a project that does not exist;
    no token gets 401."""
    response = _get(audit, token=audit.read_other)
    assert response.status_code == 404
    assert (
        response.json()["error"]["message"] == f"no project {PROJECT} is readable with this token"
    )
    assert audit.api.get("/v1/report", params=PERIOD).status_code == 401


def test_pages_serve_the_report_with_the_session_cookie(audit: Audit) -> None:
    """/ui/report answers the same report to a signed-in auditor and an HTML page otherwise."""
    anonymous = audit.api.get("/ui/report", params=PERIOD)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("text/html")
    cookie = session(audit.api, audit.read)
    response = audit.api.get("/ui/report", params={**PERIOD, "format": "csv"}, headers=cookie)
    assert response.status_code == 200, response.text
    assert len(list(csv.reader(io.StringIO(response.text)))) == 6
    page = audit.api.get("/ui/report", params=PERIOD, headers=cookie)
    assert 'href="/ui/report?' in page.text
    assert "format=pdf" in page.text
    bad = audit.api.get("/ui/report", params={**PERIOD, "since": "nope"}, headers=cookie)
    assert bad.status_code == 422
    assert "since" in bad.text
