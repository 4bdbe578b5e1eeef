"""Cobertura XML: per-line hits from each class's <lines>, never the root's declared rates.

A class's own <lines> are used; a class without them (Swift) falls back to the lines under its
methods, or <line> elements sitting directly under the class (istanbul). A line listed twice in
one report (gcovr's constructor variants) counts once with its highest hits. Branches come from
``condition-coverage="50% (1/2)"`` on lines marked ``branch="true"`` (any case).
Paths are normalised against the <source> roots (see `normalise_path`).

One pass of an lxml parser target: Python sees each element's start with its attributes; the
<line> attributes are batched and converted with C-level ``map(int, ...)``; memory holds one class.
"""

from __future__ import annotations

import posixpath
import re
from operator import itemgetter
from pathlib import Path
from typing import cast

from gatekeeper.reports._numbers import Attributes, BadNumberError
from gatekeeper.reports._xml import StreamTarget, parse_target
from gatekeeper.reports.model import CoverageResult, FileCoverage, ParsedReport
from gatekeeper.reports.registry import ReportFormat, register

_CONDITION = re.compile(r"\((\d+)\s*/\s*(\d+)\)")
_NUMBER = itemgetter("number")
_HITS = itemgetter("hits")
_BATCH = 4096
"""Line attributes kept before they are converted (bounds memory for a huge class)."""


def _number(attributes: Attributes, name: str) -> int:
    text = attributes.get(name)
    try:
        return int(text)  # type: ignore[arg-type]  # None raises TypeError, caught
    except (TypeError, ValueError):
        pass
    try:
        return int(float(text))  # type: ignore[arg-type]  # as above
    except (TypeError, ValueError):
        raise BadNumberError("line", name, text) from None


def normalise_path(filename: str, sources: list[str]) -> str:
    """A class filename made comparable across reports: joined to its <source> root, POSIX form.

    With one root the filename is joined to it; with several, the first root under which the
    file exists on disk (else the filename alone).
    """
    name = filename.replace("\\", "/")
    roots = [s.replace("\\", "/").rstrip("/") for s in sources if s and s.strip() != "."]
    if name.startswith("/") or not roots:
        return posixpath.normpath(name)
    if len(roots) == 1:
        return posixpath.normpath(posixpath.join(roots[0].strip(), name))
    for root in roots:
        candidate = posixpath.join(root.strip(), name)
        if Path(candidate).exists():
            return posixpath.normpath(candidate)
    return posixpath.normpath(name)


def _branch(attributes: Attributes) -> tuple[int, int] | None:
    flag = attributes.get("branch")
    if flag is None or flag.lower() != "true":
        return None
    found = _CONDITION.search(attributes.get("condition-coverage") or "")
    if found is None:
        return None
    return int(found.group(1)), int(found.group(2))


class _Lines:
    """The <line>s of one kind in one class (its own <lines>, its methods', or direct ones).

    A bad number is kept, not raised, until the class ends: the old per-class reading never
    looked at method lines of a class that has its own, so neither may their errors count.
    """

    __slots__ = ("batch", "branches", "error", "has_branches", "lines")

    def __init__(self) -> None:
        self.batch: list[Attributes] = []
        self.lines: dict[int, int] = {}
        self.branches: dict[int, tuple[int, int]] = {}
        self.error: Exception | None = None
        self.has_branches = False

    def flush(self) -> None:
        """Convert the batched attributes (the first bad number is kept for later)."""
        batch = self.batch
        if batch and self.error is None:
            try:
                self._add(batch)
            except (BadNumberError, OverflowError) as error:
                self.error = error
        batch.clear()

    def _add(self, batch: list[Attributes]) -> None:
        lines = self.lines
        try:
            numbers = list(map(int, map(_NUMBER, batch)))
            hits = list(map(int, map(_HITS, batch)))
        except (KeyError, ValueError):  # the first bad value, in document order, is named
            pairs = [(_number(a, "number"), _number(a, "hits")) for a in batch]
            numbers, hits = [n for n, _ in pairs], [h for _, h in pairs]
        if not lines and min(hits) >= 0 and len(set(numbers)) == len(numbers):
            lines.update(zip(numbers, hits, strict=True))
        else:
            for number, count in zip(numbers, hits, strict=True):
                old = lines.get(number)
                if old is None or count > old:
                    lines[number] = max(count, 0)
        for attributes in [a for a in batch if "branch" in a]:
            self._add_branch(attributes)

    def _add_branch(self, attributes: Attributes) -> None:
        branch = _branch(attributes)
        if branch is not None:
            self.has_branches = True
            number = _number(attributes, "number")
            old = self.branches.get(number, (0, 0))
            self.branches[number] = (max(old[0], branch[0]), max(old[1], branch[1]))

    def merge(self, other: _Lines) -> None:
        """Add another kind's lines and branches (highest hits and counts win)."""
        for number, count in other.lines.items():
            if count > self.lines.get(number, -1):
                self.lines[number] = count
        for number, (covered, valid) in other.branches.items():
            old = self.branches.get(number, (0, 0))
            self.branches[number] = (max(old[0], covered), max(old[1], valid))
        self.has_branches = self.has_branches or other.has_branches


class _Class:
    """One open <class>: its file name and its three kinds of lines."""

    __slots__ = ("depth", "direct", "filename", "methods", "own", "own_seen")

    def __init__(self, depth: int, filename: str) -> None:
        self.depth = depth
        self.filename = filename
        self.own = _Lines()
        self.direct = _Lines()
        self.methods = _Lines()
        self.own_seen = False

    def coverage(self, path: Path) -> tuple[FileCoverage, bool]:
        """The class's lines: its own <lines>, else its direct and method lines; errors raised."""
        kinds = [self.own] if self.own_seen else [self.direct, self.methods]
        for kind in kinds:
            kind.flush()
        for kind in kinds:
            if isinstance(kind.error, BadNumberError):
                raise kind.error.report_error(path)
            if kind.error is not None:
                raise kind.error
        used = kinds[0]
        if len(kinds) > 1:
            used.merge(kinds[1])
        coverage = FileCoverage()
        coverage.branches = used.branches
        coverage.set_lines(used.lines)
        return coverage, used.has_branches


class _CoberturaTarget(StreamTarget):
    """The parser target: classes, their line containers, and the <source> roots."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.result = CoverageResult()
        self.has_branches = False
        self.sources: list[str] = []
        self._classes: list[_Class] = []
        self._tags: list[str] = [""]  # tag of the element last opened at each depth
        self._sink_kind = _Lines()  # where a <line> at `_sink_depth` goes
        self._sink = self._sink_kind.batch
        self._sink_depth = -1
        self._text: list[str] | None = None  # the text of an open <source>, before any child

    def start(self, tag: str, attrib: Attributes) -> None:
        """An element opens: lines are batched; other elements change the context."""
        ends = self._ends
        depth = self._depth
        if ends:
            depth -= len(ends)
            ends.clear()
            if depth < self._watch:
                self.closed(depth)
        depth += 1
        self._depth = depth
        if tag == "line" and depth == self._sink_depth:
            sink = self._sink
            sink.append(attrib)
            if len(sink) >= _BATCH:
                self._sink_kind.flush()
        else:
            self._open(tag, attrib, depth)
        tags = self._tags
        if depth < len(tags):
            tags[depth] = tag
        else:
            tags.append(tag)

    def data(self, text: str) -> None:
        """Text: kept only inside a <source> before its first child (and before it closes)."""
        if self._text is not None and not self._ends:
            self._text.append(text)

    def _open(self, tag: str, attrib: Attributes, depth: int) -> None:
        self._text = None
        if tag == "source":
            self._text = texts = cast(list[str], [])
            self.watch(depth, lambda: self._close_source(texts))
        elif tag == "class":
            self._open_class(attrib, depth)
        elif self._classes:
            self._open_inside_class(tag, depth)

    def _close_source(self, texts: list[str]) -> None:
        self.sources.append("".join(texts).strip())
        self._text = None

    def _open_class(self, attrib: Attributes, depth: int) -> None:
        self._classes.append(_Class(depth, str(attrib.get("filename") or "")))
        self._set_sink(self._classes[-1].direct, depth + 1)
        self.watch(depth, self._close_class)

    def _open_inside_class(self, tag: str, depth: int) -> None:
        current = self._classes[-1]
        relative = depth - current.depth
        if tag != "lines" or relative not in (1, 3):
            return
        if relative == 1:
            if current.own_seen:
                return
            current.own_seen = True
            kind = current.own
        elif self._tags[depth - 2 : depth] == ["methods", "method"]:
            kind = current.methods
        else:
            return
        self._set_sink(kind, depth + 1)
        self.watch(depth, lambda: self._set_sink(current.direct, current.depth + 1))

    def _set_sink(self, kind: _Lines, depth: int) -> None:
        self._sink_kind = kind
        self._sink = kind.batch
        self._sink_depth = depth

    def _close_class(self) -> None:
        current = self._classes.pop()
        coverage, has_branches = current.coverage(self.path)
        self.has_branches = self.has_branches or has_branches
        self.result.add(normalise_path(current.filename, self.sources), coverage)
        if self._classes:
            outer = self._classes[-1]
            self._set_sink(outer.direct, outer.depth + 1)
        else:
            self._set_sink(_Lines(), -1)

    def close(self) -> tuple[CoverageResult, bool]:
        """The end of the document: the coverage and whether it carries branch data."""
        self.finish()
        return self.result, self.has_branches


def parse_cobertura(path: Path) -> tuple[CoverageResult, bool]:
    """Per-file coverage of one Cobertura file and whether it carries branch data."""
    result: tuple[CoverageResult, bool] = parse_target(path, _CoberturaTarget(path))
    return result


def _read(path: Path, report: ParsedReport) -> None:
    report.coverage, report.has_branches = parse_cobertura(path)


register(
    ReportFormat(
        name="cobertura",
        kind="coverage",
        title="Cobertura XML",
        detect=lambda head: head.root == "coverage",
        parse=_read,
        priority=110,
    )
)
