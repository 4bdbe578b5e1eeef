"""Which format a report is in, found from its content (never from its file name).

The formats and their detectors live in the registry (`gatekeeper.reports.registry`); this
module reads a file's head, vets its XML prolog, and turns "no format matched" into a sentence
that says what the file is when it is a known format Gatekeeper does not read.
"""

from __future__ import annotations

from pathlib import Path

from gatekeeper.errors import ReportError
from gatekeeper.reports import registry
from gatekeeper.reports._xml import PROLOG_LIMIT, check_prolog

HEAD_BYTES = 64 * 1024

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


def _nul_place(head: bytes) -> tuple[int, int]:
    """Line and column (1-based) of the first NUL byte in `head`."""
    offset = head.index(b"\x00")
    line_start = head.rfind(b"\n", 0, offset) + 1
    return head.count(b"\n", 0, offset) + 1, offset - line_start + 1


def _titles(kind: registry.Kind | None = None) -> str:
    titles = [f.title for f in registry.formats() if kind is None or f.kind == kind]
    return ", ".join(titles[:-1]) + f" or {titles[-1]}" if len(titles) > 1 else "".join(titles)


def detect_report(path: Path, head: bytes) -> registry.ReportFormat:
    """The registered format of a file whose first bytes are `head`; ReportError when unknown."""
    if not head:
        raise ReportError(path, "the file is empty")
    utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))
    if not utf16 and not head.removeprefix(b"\xef\xbb\xbf").strip():
        raise ReportError(path, "the file holds only whitespace")
    if b"\x00" in head[:4096] and not utf16:
        line, column = _nul_place(head)
        raise ReportError(
            path,
            "a NUL byte: this is a binary file, not a test, coverage or findings report",
            line=line,
            column=column,
        )
    view = registry.Head.of(head)
    if view.is_xml:
        check_prolog(path, head)
    found = registry.detect(view)
    if found is not None:
        return found
    unread = registry.detect_unread(view)
    if unread is not None:
        raise ReportError(
            path,
            f"this is {unread.title}, which Gatekeeper does not read; {unread.advice} "
            "or see docs/reports.md",
        )
    if view.root == "":
        raise ReportError(path, "XML without a root element")
    if view.root is not None:
        raise ReportError(
            path,
            f"unknown XML report with root element <{view.root}> (Gatekeeper reads "
            f"{_titles()}; see docs/reports.md)",
        )
    if view.body.startswith((b"{", b"[")):
        json_titles = [f.title for f in registry.formats() if "JSON" in f.title]
        raise ReportError(
            path,
            f"unknown JSON report (the JSON formats Gatekeeper reads: {', '.join(json_titles)}; "
            "see docs/reports.md)",
            line=1,
        )
    raise ReportError(path, f"unknown report format (not {_titles()}; see docs/reports.md)", line=1)


def detect_format(path: Path, head: bytes) -> str:
    """The name of the report format of a file whose first bytes are `head`."""
    return detect_report(path, head).name


def guess_producer(head: bytes, report_format: registry.ReportFormat) -> str | None:
    """The tool that wrote the report, when its first bytes say so."""
    sample = head[:4096].lower()
    for marker, producer in _PRODUCERS:
        if marker.lower() in sample:
            return producer
    return report_format.producer
