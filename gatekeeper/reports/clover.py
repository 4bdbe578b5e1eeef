"""Clover XML: statement lines (``type="stmt"``) with ``count > 0`` are covered; each conditional
line (``type="cond"``) is two branches, covered by ``truecount > 0`` and ``falsecount > 0``.
istanbul writes a line with branches once, as ``type="cond"`` with the line's hits in ``count``
and ``truecount``/``falsecount`` as the numbers of branches covered/not covered: such a line is
a line too, with ``truecount + falsecount`` branches. OpenClover's conditionals carry no count
(``truecount``/``falsecount`` are how often the condition was true/false) and sit beside a
statement line of their own.
Method lines are ignored; the <metrics> totals are never read.
"""

from __future__ import annotations

import re
from pathlib import Path

from gatekeeper.reports._numbers import Attributes, BadNumberError, count_attribute
from gatekeeper.reports._xml import StreamTarget, parse_target
from gatekeeper.reports.model import CoverageResult, FileCoverage, ParsedReport
from gatekeeper.reports.registry import Head, ReportFormat, register


class _File:
    """One open <file>: its key, statement lines, conditional branches and first bad number."""

    __slots__ = ("branches", "depth", "error", "key", "lines")

    def __init__(self, depth: int, key: str) -> None:
        self.depth = depth
        self.key = key
        self.lines: dict[int, int] = {}
        self.branches: dict[int, tuple[int, int]] = {}
        self.error: BadNumberError | None = None

    def add_line(self, attributes: Attributes) -> None:
        """One <line> child: a statement, a conditional, or ignored (methods)."""
        kind = attributes.get("type")
        number = count_attribute("line", attributes, "num")
        if kind == "stmt" or (kind == "cond" and "count" in attributes):
            self.lines[number] = max(
                self.lines.get(number, 0), count_attribute("line", attributes, "count")
            )
        if kind == "cond" and "count" in attributes:
            covered = count_attribute("line", attributes, "truecount")
            valid = covered + count_attribute("line", attributes, "falsecount")
            old = self.branches.get(number, (0, 0))
            self.branches[number] = (max(old[0], covered), max(old[1], valid))
        elif kind == "cond":
            covered = (count_attribute("line", attributes, "truecount") > 0) + (
                count_attribute("line", attributes, "falsecount") > 0
            )
            old = self.branches.get(number, (0, 0))
            self.branches[number] = (max(old[0], covered), 2)


class _CloverTarget(StreamTarget):
    """The parser target: each <file> and its direct <line> children."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.result = CoverageResult()
        self._files: list[_File] = []
        self._file_depth = -1

    def start(self, tag: str, attrib: Attributes) -> None:
        """An element opens: a line of the open file, or a new file."""
        ends = self._ends
        depth = self._depth
        if ends:
            depth -= len(ends)
            ends.clear()
            if depth < self._watch:
                self.closed(depth)
        depth += 1
        self._depth = depth
        if tag == "line" and depth == self._file_depth + 1:
            current = self._files[-1]
            if current.error is None:
                try:
                    current.add_line(attrib)
                except BadNumberError as error:
                    current.error = error
        elif tag == "file":
            key = str(attrib.get("path") or attrib.get("name") or "").replace("\\", "/")
            self._files.append(_File(depth, key))
            self._file_depth = depth
            self.watch(depth, self._close_file)

    def _close_file(self) -> None:
        current = self._files.pop()
        self._file_depth = self._files[-1].depth if self._files else -1
        if current.error is not None:
            raise current.error.report_error(self.path)
        coverage = FileCoverage()
        coverage.branches = current.branches
        coverage.set_lines(current.lines)
        self.result.add(current.key, coverage)

    def close(self) -> tuple[CoverageResult, bool]:
        """The end of the document: the coverage and whether it carries branch data."""
        self.finish()
        return self.result, any(f.branches for f in self.result.files.values())


def parse_clover(path: Path) -> tuple[CoverageResult, bool]:
    """Per-file coverage of one Clover XML report and whether it carries branch data."""
    result: tuple[CoverageResult, bool] = parse_target(path, _CloverTarget(path))
    return result


def _is_clover(head: Head) -> bool:
    """Clover shares the root `<coverage>` with Cobertura: its `clover=` attribute or a
    `<project>` element tell them apart."""
    return head.root == "coverage" and (
        b"clover=" in head.root_attributes or re.search(rb"<project[\s>]", head.text) is not None
    )


def _read(path: Path, report: ParsedReport) -> None:
    report.coverage, report.has_branches = parse_clover(path)


register(
    ReportFormat(
        name="clover",
        kind="coverage",
        title="Clover XML",
        detect=_is_clover,
        parse=_read,
    )
)
