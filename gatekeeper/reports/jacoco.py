"""JaCoCo XML: a line is valid when it has instructions (mi+ci > 0), covered when ci > 0;
branches are mb+cb. Report-level counters are ignored, except that a sourcefile whose lines carry
no mi/ci (gcovr's JaCoCo writer) is measured by its own LINE counter.
"""

from __future__ import annotations

from pathlib import Path

from gatekeeper.reports._numbers import Attributes, BadNumberError, count_attribute
from gatekeeper.reports._xml import StreamTarget, parse_target
from gatekeeper.reports.model import CoverageResult, FileCoverage, ParsedReport
from gatekeeper.reports.registry import ReportFormat, register


class _SourceFile:
    """One open <sourcefile>: its key, lines, branches, LINE counter and first bad number."""

    __slots__ = ("branches", "counter", "depth", "error", "instructions_known", "key", "lines")

    def __init__(self, depth: int, key: str) -> None:
        self.depth = depth
        self.key = key
        self.lines: dict[int, int] = {}
        self.branches: dict[int, tuple[int, int]] = {}
        self.instructions_known = False
        self.counter: tuple[int, int] | None = None
        self.error: BadNumberError | None = None

    def add_line(self, attributes: Attributes) -> None:
        """One <line nr mi ci mb cb> child."""
        number = count_attribute("line", attributes, "nr")
        missed, covered = (
            count_attribute("line", attributes, "mi"),
            count_attribute("line", attributes, "ci"),
        )
        self.instructions_known = self.instructions_known or "mi" in attributes
        if missed + covered > 0:
            self.lines[number] = max(self.lines.get(number, 0), covered)
        branches_missed = count_attribute("line", attributes, "mb")
        branches_covered = count_attribute("line", attributes, "cb")
        if branches_missed + branches_covered > 0:
            old = self.branches.get(number, (0, 0))
            self.branches[number] = (
                max(old[0], branches_covered),
                max(old[1], branches_missed + branches_covered),
            )

    def add_counter(self, attributes: Attributes) -> None:
        """A <counter type="LINE"> child (the last one counts)."""
        missed = count_attribute("counter", attributes, "missed")
        covered = count_attribute("counter", attributes, "covered")
        self.counter = (missed + covered, covered)

    def coverage(self, path: Path) -> FileCoverage:
        """The file's coverage, or the ReportError of its first bad number."""
        if self.error is not None:
            raise self.error.report_error(path)
        coverage = FileCoverage()
        coverage.branches = self.branches
        coverage.set_lines(self.lines)
        if not self.instructions_known and not self.lines and self.counter is not None:
            coverage.summary = self.counter
        return coverage


class _JacocoTarget(StreamTarget):
    """The parser target: each <sourcefile> keyed by its parent's name, its direct children."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.result = CoverageResult()
        self._names: list[str | None] = [None]  # name of the element last opened at each depth
        self._files: list[_SourceFile] = []
        self._file_depth = -1

    def start(self, tag: str, attrib: Attributes) -> None:
        """An element opens: a line or counter of the open sourcefile, or a new sourcefile."""
        ends = self._ends
        depth = self._depth
        if ends:
            depth -= len(ends)
            ends.clear()
            if depth < self._watch:
                self.closed(depth)
        depth += 1
        self._depth = depth
        names = self._names
        if depth < len(names):
            names[depth] = attrib.get("name")
        else:
            names.append(attrib.get("name"))
        if depth == self._file_depth + 1:
            self._child(tag, attrib)
        if tag == "sourcefile":
            prefix = str(names[depth - 1] or "")
            name = str(attrib.get("name") or "")
            self._files.append(_SourceFile(depth, f"{prefix}/{name}" if prefix else name))
            self._file_depth = depth
            self.watch(depth, self._close_file)

    def _child(self, tag: str, attrib: Attributes) -> None:
        current = self._files[-1]
        if current.error is not None:
            return
        try:
            if tag == "line":
                current.add_line(attrib)
            elif tag == "counter" and attrib.get("type") == "LINE":
                current.add_counter(attrib)
        except BadNumberError as error:
            current.error = error

    def _close_file(self) -> None:
        current = self._files.pop()
        self._file_depth = self._files[-1].depth if self._files else -1
        self.result.add(current.key, current.coverage(self.path))

    def close(self) -> tuple[CoverageResult, bool]:
        """The end of the document: the coverage and whether it carries branch data."""
        self.finish()
        has_branches = any(f.branches for f in self.result.files.values())
        return self.result, has_branches


def parse_jacoco(path: Path) -> tuple[CoverageResult, bool]:
    """Per-file coverage of one JaCoCo XML report and whether it carries branch data."""
    result: tuple[CoverageResult, bool] = parse_target(path, _JacocoTarget(path))
    return result


def _read(path: Path, report: ParsedReport) -> None:
    report.coverage, report.has_branches = parse_jacoco(path)


register(
    ReportFormat(
        name="jacoco",
        kind="coverage",
        title="JaCoCo XML",
        detect=lambda head: head.root == "report",
        parse=_read,
    )
)
