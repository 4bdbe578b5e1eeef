"""Which format a report is in, found from its content (never from its file name)."""

from __future__ import annotations

import re
from pathlib import Path

from gatekeeper.errors import ReportError
from gatekeeper.reports._xml import PROLOG_LIMIT, check_prolog

HEAD_BYTES = 64 * 1024

FORMATS = ("junit", "cobertura", "clover", "jacoco", "lcov", "coveragepy-json", "go-coverprofile")

_XML_ROOT = re.compile(rb"\s*<([A-Za-z_][\w:.-]*)([^>]*)>?", re.DOTALL)
_SKIP_MARKUP = re.compile(
    rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)", re.DOTALL
)
_LCOV_LINE = re.compile(rb"^(?:TN|SF|DA|FN|FNDA|FNF|FNH|BRDA|BRF|BRH|LF|LH|VER|FNL|FNA):", re.M)
_GO_MODE = re.compile(rb"\Amode:\s*(set|count|atomic)\s*$", re.M)

_PRODUCERS: tuple[tuple[bytes, str], ...] = (
    (b"coverage.py", "coverage.py"),
    (b"gcovr", "gcovr"),
    (b"coverlet", "coverlet"),
    (b"istanbul", "istanbul"),
    (b"clover=", "clover"),
    (b"jacoco", "jacoco"),
    (b"surefire", "maven-surefire"),
    (b"testng", "testng"),
    (b"jest", "jest-junit"),
    (b"mocha", "mocha"),
    (b"nextest", "cargo-nextest"),
    (b'name="pytest"', "pytest"),
    (b"phpunit", "phpunit"),
    (b"rspec", "rspec"),
    (b"ctest", "ctest"),
    (b"go-junit-report", "go-junit-report"),
    (b"gotestsum", "gotestsum"),
)


def read_head(path: Path) -> bytes:
    """The first bytes of a file (enough to detect its format and check its XML prolog)."""
    try:
        with path.open("rb") as handle:
            return handle.read(PROLOG_LIMIT)
    except OSError as error:
        raise ReportError(path, f"cannot read the file: {error.strerror or error}") from None


def _strip_bom(head: bytes) -> bytes:
    return head[3:] if head.startswith(b"\xef\xbb\xbf") else head


def _xml_format(path: Path, head: bytes) -> str:
    check_prolog(path, head)
    text = head
    for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            text = head[2:].decode(codec, errors="ignore").encode()
    text = _strip_bom(text)
    position = 0
    while (skipped := _SKIP_MARKUP.match(text, position)) is not None and skipped.end() > position:
        position = skipped.end()
    root = _XML_ROOT.match(text, position)
    if root is None:
        raise ReportError(path, "XML without a root element")
    name = root.group(1).split(b":")[-1]
    attributes = root.group(2)
    if name in (b"testsuites", b"testsuite"):
        return "junit"
    if name == b"report":
        return "jacoco"
    if name == b"coverage":
        if b"clover=" in attributes or re.search(rb"<project[\s>]", text):
            return "clover"
        return "cobertura"
    raise ReportError(path, f"unknown XML report with root element <{name.decode()}>")


def detect_format(path: Path, head: bytes) -> str:
    """The report format of a file whose first bytes are `head`; ReportError when unknown."""
    if not head:
        raise ReportError(path, "the file is empty")
    body = _strip_bom(head).lstrip()
    if not body:
        raise ReportError(path, "the file holds only whitespace")
    if b"\x00" in head[:4096] and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ReportError(path, "binary file, not a test or coverage report")
    if body.startswith(b"<") or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _xml_format(path, head)
    if body.startswith(b"{"):
        if b'"files"' in body and (b'"meta"' in body or b'"totals"' in body):
            return "coveragepy-json"
        raise ReportError(path, "unknown JSON report (expected coverage.py JSON)", line=1)
    if _GO_MODE.match(body):
        return "go-coverprofile"
    if _LCOV_LINE.search(body[:4096]):
        return "lcov"
    raise ReportError(
        path,
        "unknown report format (not JUnit, Cobertura, LCOV, JaCoCo, "
        "Clover, coverage.py JSON or a Go coverprofile)",
        line=1,
    )


def guess_producer(head: bytes, report_format: str) -> str | None:
    """The tool that wrote the report, when its first bytes say so."""
    sample = head[:4096].lower()
    for marker, producer in _PRODUCERS:
        if marker.lower() in sample:
            return producer
    if report_format == "go-coverprofile":
        return "go test"
    if report_format == "coveragepy-json":
        return "coverage.py"
    return None
