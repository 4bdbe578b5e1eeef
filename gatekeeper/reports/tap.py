"""TAP 13 and 14 (Test Anything Protocol) streams, read line by line in bounded memory.

- Every leaf test point counts once: `ok` passed, `not ok` failed, `# SKIP` and `# TODO` skipped
  (whatever the `ok`). A test point whose subtest (the lines indented 4 spaces more just before
  it) has test points is a parent and does not count, except that a failed parent whose subtest
  has no failure (an exception after its subtests, a broken subtest plan) is one failed test.
- A plan (`1..N`) that disagrees with the number of test points at its level, or a plan that is
  neither before nor after that level's test points, is one errored test; `1..0` skips the file.
- A stream without a top-level plan is one errored test (TAP calls it a failed run: the
  producer may have died before its last test); subtests may omit theirs.
- `Bail out!` stops the run: the rest of the file is ignored and the bail out is one errored test.
- A YAML diagnostics block (`  ---` ... `  ...`) after a failed test point gives its message
  (`message`, else node's `error`), file and line (`at.file`/`at.line` as node-tap writes them,
  `location: 'file:line:column'` as node's test runner writes it, or `file`/`line`).
- `duration_s` is node's closing `# duration_ms` comment or node-tap's `# time=...ms`, when given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from gatekeeper.errors import ReportError
from gatekeeper.facts import MESSAGE_LIMIT
from gatekeeper.reports.model import FailureRecord, ParsedReport, TestResult
from gatekeeper.reports.registry import Head, ReportFormat, register

MAX_LINE_BYTES = 1024 * 1024
"""Longest line read."""

MAX_YAML_BYTES = 64 * 1024
"""Largest diagnostics block parsed; a larger one is skipped (its test point still counts)."""

MAX_DEPTH = 64
"""Deepest subtest nesting read."""

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""safe_load's loader, in C when PyYAML has libyaml (a YAML block is parsed per failure)."""

_VERSION = re.compile(r"^TAP version (\d+)\s*$", re.IGNORECASE)
_PLAN = re.compile(r"^1\.\.(\d+)\s*(?:#\s*(.*))?$")
_POINT = re.compile(r"^(not )?ok(?=$|[\s#-])\s*(\d+)?\s*-?\s*(.*)$")
_DIRECTIVE = re.compile(r"(?<!\\)#\s*(SKIP|TODO)\S*\s*(.*)$", re.IGNORECASE)
_COMMENT_SPLIT = re.compile(r"(?<!\\)#")
_SUBTEST = re.compile(r"^#\s*Subtest:\s*(.*)$")
_DURATION = re.compile(r"^#\s*(?:duration_ms\s+|time=)(\d+(?:\.\d+)?)(?:ms)?\s*$")
_LOCATION = re.compile(r"^(.+?):(\d+)(?::\d+)?$")


@dataclass(slots=True)
class _Frame:
    """One level of test points: the top level or one subtest."""

    name: str
    points: int = 0
    plan: int | None = None
    points_before_plan: int = 0
    failed: bool = False  # a failure or error was counted in this level or below


@dataclass(slots=True)
class _Point:
    """The last test point read, waiting for its diagnostics block."""

    depth: int
    record: FailureRecord | None = None


@dataclass(slots=True)
class _Yaml:
    indent: str
    lines: list[str] = field(default_factory=list)
    size: int = 0
    start: int = 0


class _Stream:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.result = TestResult()
        self.frames: list[_Frame] = [_Frame("")]
        self.pending_subtest: dict[int, str] = {}
        self.last: _Point | None = None
        self.yaml: _Yaml | None = None
        self.seen_tap = False
        self.skip_all: str | None = None
        self.bailed = False

    def error(self, number: int, problem: str) -> ReportError:
        return ReportError(self.path, problem, line=number)

    # -- lines ---------------------------------------------------------------------------

    def line(self, number: int, text: str) -> None:
        if self.yaml is not None and self._yaml_line(number, text):
            return
        stripped = text.lstrip(" ")
        indent = len(text) - len(stripped)
        stripped = stripped.rstrip()
        if not stripped:
            return
        if stripped.startswith("Bail out!"):
            self._bail_out(stripped[len("Bail out!") :].strip())
            return
        if stripped == "---" and self.last is not None and indent == 4 * self.last.depth + 2:
            self.yaml = _Yaml(text[:indent], start=number)
            if self.last.record is None:  # only a failure's diagnostics are read
                self.yaml.size = MAX_YAML_BYTES + 1
            return
        if stripped.startswith("\t") and _POINT.match(stripped.lstrip()) is not None:
            raise self.error(number, "a test point indented with a tab (subtests use 4 spaces)")
        point = _POINT.match(stripped)
        plan = _PLAN.match(stripped) if point is None else None
        if point is None and plan is None:
            self._other_line(number, indent, stripped)
            return
        if indent % 4:
            kind = "test point" if point is not None else "plan"
            raise self.error(
                number, f"a {kind} indented by {indent} spaces (subtests are indented by 4)"
            )
        depth = indent // 4
        if depth > MAX_DEPTH:
            raise self.error(number, f"subtests nested deeper than {MAX_DEPTH} levels")
        self.seen_tap = True
        if point is not None:
            self._point(depth, point)
        elif plan is not None:
            self._plan(number, depth, plan)

    def _other_line(self, number: int, indent: int, stripped: str) -> None:
        version = _VERSION.match(stripped)
        if version is not None:
            if self.seen_tap or indent:
                raise self.error(number, "a TAP version line after the first test point or plan")
            if version.group(1) not in ("13", "14"):
                raise self.error(
                    number, f"TAP version {version.group(1)[:10]} (Gatekeeper reads 13 and 14)"
                )
            self.seen_tap = True
            return
        if indent % 4 == 0 and (subtest := _SUBTEST.match(stripped)) is not None:
            self.pending_subtest[indent // 4] = subtest.group(1).strip()[:MESSAGE_LIMIT]
            return
        if indent == 0 and (duration := _DURATION.match(stripped)) is not None:
            self.result.duration_s = float(duration.group(1)) / 1000
        # Anything else (comments, pragmas, unknown lines) carries no result, as TAP says.

    def _yaml_line(self, number: int, text: str) -> bool:
        """Add a line to the open diagnostics block; False when the line ends it without `...`."""
        block = self.yaml
        assert block is not None
        if text.rstrip() == block.indent + "...":
            self.yaml = None
            self._diagnostics(block)
            return True
        if text.strip() and not text.startswith(block.indent):
            self.yaml = None  # an unterminated block: parse what it held, read the line as TAP
            self._diagnostics(block)
            return False
        if block.size <= MAX_YAML_BYTES:
            block.lines.append(text[len(block.indent) :])
            block.size += len(text)
        return True

    # -- results -------------------------------------------------------------------------

    def _close_below(self, depth: int) -> _Frame | None:
        """Close the subtests deeper than `depth`; the one just below it, if it had points."""
        closed: _Frame | None = None
        while len(self.frames) > depth + 1:
            frame = self.frames[-1]
            self._check_plan(frame)
            self.frames.pop()
            if self.frames and frame.failed:
                self.frames[-1].failed = True
            closed = frame
        return closed if closed is not None and (closed.points or closed.plan is not None) else None

    def _frame(self, depth: int) -> _Frame:
        while len(self.frames) < depth + 1:
            parent = len(self.frames) - 1
            self.frames.append(_Frame(self.pending_subtest.pop(parent, "")))
        return self.frames[depth]

    def _suite(self, depth: int) -> str:
        return " / ".join(f.name for f in self.frames[1 : depth + 1] if f.name)

    def _point(self, depth: int, point: re.Match[str]) -> None:
        subtest = self._close_below(depth)
        frame = self._frame(depth)
        frame.points += 1
        self.pending_subtest.pop(depth, None)
        number, rest = point.group(2), point.group(3)
        directive = _DIRECTIVE.search(rest)
        description = (_COMMENT_SPLIT.split(rest, maxsplit=1)[0]).strip()
        description = description.replace("\\#", "#").replace("\\\\", "\\")
        if not description and directive is not None:
            description = directive.group(2).strip()
        name = description or (f"test {number}" if number else f"test point {frame.points}")
        name = name[:MESSAGE_LIMIT]
        not_ok = point.group(1) is not None
        self.last = _Point(depth)
        result = self.result
        if subtest is not None:
            if not_ok and directive is None and not subtest.failed:
                self._fail(frame, depth, name, "the test failed while its subtests passed")
            return
        if directive is not None:
            result.total += 1
            result.skipped += 1
        elif not_ok:
            self._fail(frame, depth, name, name)
        else:
            result.total += 1
            result.passed += 1

    def _fail(self, frame: _Frame, depth: int, name: str, message: str) -> None:
        suite = self._suite(depth)
        self.result.total += 1
        self.result.failed += 1
        frame.failed = True
        record = FailureRecord(suite, name, suite, None, None, message, "failure")
        self.result.failures.append(record)
        if self.last is not None:
            self.last.record = record

    def _error(self, frame: _Frame, name: str, message: str) -> None:
        self.result.total += 1
        self.result.errors += 1
        frame.failed = True
        suite = self._suite(len(self.frames) - 1)
        self.result.failures.append(FailureRecord(suite, name, suite, None, None, message, "error"))

    def _plan(self, number: int, depth: int, plan: re.Match[str]) -> None:
        self._close_below(depth)
        frame = self._frame(depth)
        if frame.plan is not None:
            raise self.error(number, "a second plan at the same level")
        count = int(plan.group(1)[:19])
        frame.plan = count
        frame.points_before_plan = frame.points
        if count == 0 and depth == 0:
            self.skip_all = (plan.group(2) or "").strip()[:MESSAGE_LIMIT]

    def _check_plan(self, frame: _Frame) -> None:
        if frame.plan is None or self.bailed:
            return
        if frame.points_before_plan not in (0, frame.points):
            self._error(
                frame,
                "plan",
                f"the plan 1..{frame.plan} comes after {frame.points_before_plan} test points"
                f" and before {frame.points - frame.points_before_plan} more"
                " (TAP puts it first or last)",
            )
        elif frame.plan != frame.points:
            self._error(
                frame,
                "plan",
                f"the plan 1..{frame.plan} announces {frame.plan} tests but {frame.points} ran",
            )

    def _bail_out(self, reason: str) -> None:
        self.bailed = True
        self._close_below(0)
        message = f"Bail out! {reason}".strip()[:MESSAGE_LIMIT]
        self._error(self.frames[0], "Bail out!", message)

    def _diagnostics(self, block: _Yaml) -> None:
        point = self.last
        if point is None or point.record is None or block.size > MAX_YAML_BYTES:
            return
        try:
            data = yaml.load("\n".join(block.lines), Loader=_YAML_LOADER)  # noqa: S506
        except (yaml.YAMLError, RecursionError) as error:
            problem = str(error).splitlines()[0][:200]
            raise self.error(block.start, f"invalid YAML diagnostics: {problem}") from None
        if not isinstance(data, dict):
            return
        record = point.record
        message = data.get("message", data.get("error"))
        if isinstance(message, str) and message.strip():
            record.message = message.strip()[:MESSAGE_LIMIT]
        file, line = _place(data)
        record.file, record.line = file, line

    def finish(self, number: int) -> TestResult:
        if self.yaml is not None:
            block, self.yaml = self.yaml, None
            self._diagnostics(block)
        if not self.bailed:
            self._close_below(0)
            if not self.seen_tap:
                raise self.error(number, "no TAP test point, plan or version line in the file")
            top = self.frames[0]
            if top.plan is None:
                self._error(top, "plan", "no plan (1..N): the run may have stopped early")
            self._check_plan(top)
        if self.skip_all is not None:
            reason = f": {self.skip_all}" if self.skip_all else ""
            self.result.warnings.append(f"{self.path}: the plan 1..0 skips every test{reason}")
        return self.result


def _place(data: dict[object, object]) -> tuple[str | None, int | None]:
    """The file and line of a failure, from the keys TAP producers write."""
    at = data.get("at")
    source = at if isinstance(at, dict) else data
    file, line = source.get("file"), source.get("line")
    location = data.get("location")
    if not isinstance(file, str) and isinstance(location, str):
        found = _LOCATION.match(location.strip())
        if found is not None:
            file, line = found.group(1), int(found.group(2)[:18])
    clean_file = file[:1024] if isinstance(file, str) and file else None
    valid_line = isinstance(line, int) and not isinstance(line, bool) and 0 < line < 2**62
    return clean_file, line if valid_line and isinstance(line, int) else None


def parse_tap(path: Path) -> TestResult:
    """Counts, duration and failures of one TAP 13 or 14 stream."""
    stream = _Stream(path)
    number = 0
    try:
        with path.open("rb") as handle:
            while raw := handle.readline(MAX_LINE_BYTES + 1):
                number += 1
                if len(raw) > MAX_LINE_BYTES:
                    raise ReportError(path, "line longer than 1 MiB", line=number)
                if b"\x00" in raw:
                    raise ReportError(path, "a NUL byte in a TAP stream", line=number)
                text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                if number == 1:
                    text = text.removeprefix("\ufeff")
                stream.line(number, text)
                if stream.bailed:
                    break
    except OSError as error:
        raise ReportError(path, f"cannot read the file: {error.strerror or error}") from None
    return stream.finish(number)


_START = re.compile(rb"^(?:TAP version \d+|1\.\.\d+|(?:not )?ok(?=$|[\s#-]))", re.IGNORECASE)


def _is_tap(head: Head) -> bool:
    """A TAP stream: its first line that is not blank or a comment is a version, plan or point."""
    if head.is_xml:
        return False
    for raw in head.body[:4096].splitlines():
        line = raw.strip()
        if line and not line.startswith(b"#"):
            return _START.match(line) is not None
    return False


def _read(path: Path, report: ParsedReport) -> None:
    report.tests = parse_tap(path)


register(
    ReportFormat(
        name="tap",
        kind="test",
        title="TAP 13/14",
        detect=_is_tap,
        parse=_read,
    )
)
