"""The report formats Gatekeeper reads: one descriptor per format, registered by its module.

A format module calls `register` at import time with its `ReportFormat`: its name, its kind
(test results, coverage or findings), how to recognise it from the first bytes of a file, how
to parse it, and, for test formats, how its test ids compare across files (so that a failure in
one file and a pass of the same test in another make a flaky pass). Detection, parsing, merging
and the CLI's list of formats read this registry; adding a format is one module under
gatekeeper/reports/ (found by `formats`), its tests and one row in docs/reports.md.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from gatekeeper.reports.model import ParsedReport

Kind = Literal["test", "coverage", "findings"]
"""What a report measures: test results, coverage, or findings (static analysis results)."""

KINDS: tuple[Kind, ...] = ("test", "coverage", "findings")

_XML_ROOT = re.compile(rb"\s*<([A-Za-z_][\w:.-]*)([^>]*)>?", re.DOTALL)
_SKIP_MARKUP = re.compile(
    rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)", re.DOTALL
)
_UTF16 = ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


@dataclass(frozen=True, slots=True)
class Head:
    """The first bytes of a report, as detectors see them.

    `text` is the head with any byte order mark removed (UTF-16 transcoded to UTF-8), `body`
    the same without leading whitespace; for XML, `root` is the local name of the root element
    and `root_attributes` the raw text of its start tag after the name.
    """

    text: bytes
    root: str | None = None
    root_attributes: bytes = b""

    @property
    def body(self) -> bytes:
        """The text without leading whitespace."""
        return self.text.lstrip()

    @property
    def is_xml(self) -> bool:
        """Whether the text starts with markup."""
        return self.root is not None

    @classmethod
    def of(cls, head: bytes) -> Head:
        """The detector view of a file's first bytes (the XML prolog already vetted)."""
        text = head
        for bom, codec in _UTF16:
            if head.startswith(bom):
                text = head[2:].decode(codec, errors="ignore").encode()
        if text.startswith(b"\xef\xbb\xbf"):
            text = text[3:]
        if not text.lstrip().startswith(b"<"):
            return cls(text)
        position = 0
        while (skipped := _SKIP_MARKUP.match(text, position)) is not None and (
            skipped.end() > position
        ):
            position = skipped.end()
        root = _XML_ROOT.match(text, position)
        if root is None:
            return cls(text, root="")
        name = root.group(1).split(b":")[-1].decode("ascii", "replace")
        return cls(text, root=name, root_attributes=root.group(2))


Parser = Callable[[Path, "ParsedReport"], None]
"""Fills a `ParsedReport` (its tests, coverage or findings) from the file at the path."""

PassedIds = Callable[[Path, set[str]], set[str]]
"""Which of some test ids (`FailureRecord.test_id`) passed in the file at the path."""


@dataclass(frozen=True, slots=True)
class ReportFormat:
    """One report format: what it is, how it is recognised and read.

    `detect` sees the `Head` of a file and says whether it is this format; formats are tried in
    ascending `priority`, so a format whose detection is a special case of another's (Clover
    and Cobertura share the root element `coverage`) comes first. `passed_ids` (test formats
    only) tells which failed ids passed in a file, for the flaky-across-files rule; formats
    without it keep their failures as they are. `title` and `producer` (the tool that always
    writes it, when one does) are shown to users.
    """

    name: str
    kind: Kind
    title: str
    detect: Callable[[Head], bool]
    parse: Parser
    passed_ids: PassedIds | None = None
    producer: str | None = None
    priority: int = 100

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown report kind {self.kind!r}")
        if self.passed_ids is not None and self.kind != "test":
            raise ValueError(f"{self.name}: only test formats compare test ids across files")


@dataclass(frozen=True, slots=True)
class UnreadFormat:
    """A known report format Gatekeeper does not read, with what to do instead."""

    title: str
    detect: Callable[[Head], bool]
    advice: str


class _Registry:
    def __init__(self) -> None:
        self.formats: dict[str, ReportFormat] = {}
        self.unread: list[UnreadFormat] = []
        self.loaded = False

    @cached_property
    def _package(self) -> str:
        return __name__.rsplit(".", 1)[0]

    def load(self) -> None:
        """Import every module of the reports package once, so each registers its formats."""
        if self.loaded:
            return
        self.loaded = True
        package = importlib.import_module(self._package)
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{self._package}.{module.name}")


_REGISTRY = _Registry()


def register(report_format: ReportFormat) -> ReportFormat:
    """Add a format (its module calls this at import time); a name is registered once."""
    known = _REGISTRY.formats.get(report_format.name)
    if known is not None and known != report_format:
        raise ValueError(f"report format {report_format.name!r} is registered twice")
    _REGISTRY.formats[report_format.name] = report_format
    return report_format


def register_unread(unread: UnreadFormat) -> UnreadFormat:
    """Add a known format that is recognised only to say that Gatekeeper does not read it."""
    _REGISTRY.unread.append(unread)
    return unread


def formats() -> tuple[ReportFormat, ...]:
    """Every registered format, in detection order (priority, then name)."""
    _REGISTRY.load()
    return tuple(sorted(_REGISTRY.formats.values(), key=lambda f: (f.priority, f.name)))


def unread_formats() -> tuple[UnreadFormat, ...]:
    """The known formats Gatekeeper recognises but does not read."""
    _REGISTRY.load()
    return tuple(_REGISTRY.unread)


def format_names(kind: Kind | None = None) -> tuple[str, ...]:
    """The names of the registered formats (of one kind when given)."""
    return tuple(f.name for f in formats() if kind is None or f.kind == kind)


def lookup(name: str) -> ReportFormat:
    """The registered format called `name`; KeyError when there is none."""
    _REGISTRY.load()
    return _REGISTRY.formats[name]


def detect(head: Head) -> ReportFormat | None:
    """The first registered format whose detection accepts `head`."""
    for report_format in formats():
        if report_format.detect(head):
            return report_format
    return None


def detect_unread(head: Head) -> UnreadFormat | None:
    """The known unread format `head` is in, if any."""
    for unread in unread_formats():
        if unread.detect(head):
            return unread
    return None
