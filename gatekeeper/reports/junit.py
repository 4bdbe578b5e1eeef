"""JUnit XML in every dialect: counts from the <testcase> elements, never from declared totals.

Each testcase gets exactly one outcome, so `total = passed + failed + errors + skipped`:

- any ``<error>`` -> error; else any ``<failure>`` -> failed (a case with both a failure and a skip
  is failed; the plain per-column count would put it in both columns);
- ``<rerunFailure>``/``<rerunError>`` with no passing run -> failed (or error) once;
- ``<skipped>``, or ``status="disabled"``/``"notrun"`` or ``result="suppressed"``/``"skipped"``
  (CTest, googletest) -> skipped;
- ``<flakyFailure>``/``<flakyError>`` in a case that finally passed (Surefire, the flaky-failure
  convention of pytest-rerunfailures) -> passed and flaky;
- in pytest's output, empty records of one test side by side (pytest-rerunfailures' failed attempts)
  count once, as the last record's outcome, flaky when it passed;
- a passing record after one or more failing records with the same classname and name, next to
  them or anywhere later in the file (reruns written as separate records: TestNG retries,
  gotestsum ``--rerun-fails``, which writes every failure before every pass) -> the failed
  attempts are dropped and the test is passed and flaky;
- otherwise passed.

A ``<testsuite>`` with an ``<error>`` or ``<failure>`` of its own and no testcase (a test class
that failed to load) is one errored test of that suite, as Jenkins counts it. A file whose root or
suites declare tests (``tests="5"``) but that holds no testcase gets a warning, not a silent 0.

Duration is the sum of testcase ``time`` values in seconds: "2,503.1" reads as 2503.1; negative,
non-finite or unparsable values count as 0; values are taken as seconds even where a producer
wrote nanoseconds (container-structure-test), because no reliable marker says so.

One pass of an lxml parser target, no tree: Python sees element starts; text is kept only inside
failure and error elements, and only up to the message limit.
"""

from __future__ import annotations

import math
from functools import reduce
from operator import add, methodcaller
from pathlib import Path
from typing import Any

from gatekeeper.reports._junit_cases import (
    MAX_SECONDS,
    PASSING,
    Attributes,
    Case,
    Explain,
    Tally,
    Text,
    seconds,
)
from gatekeeper.reports._xml import StreamTarget, parse_target
from gatekeeper.reports.model import FailureRecord, ParsedReport, TestResult
from gatekeeper.reports.registry import ReportFormat, register

_Level = tuple[str, Attributes]
"""An open element's tag and attributes; a fresh tuple per element, so its identity is the
element's (lxml may hand the same empty dict to every element without attributes)."""

_BATCH = 4096
"""Plain testcases kept (attributes only) before they are counted."""
_STATUS = methodcaller("get", "status")
_NAME = methodcaller("get", "name")
_TIME = methodcaller("get", "time")
_KEPT_PLAIN = frozenset({"system-out", "system-err", "skipped"})
"""Children of a testcase that leave it in the batch: captured output, and <skipped>."""


class _JunitTarget(StreamTarget):
    """The parser target: testcases, their direct children, and the text that explains them.

    An open testcase is a list ``[depth, attributes, parent, case]``; the `Case` is made only
    when the testcase has a child or needs a closer look, so plain passes stay cheap.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._levels: list[_Level] = [("", {})]  # the element last opened at each depth
        self._open: list[list[Any]] = []
        self._case_depth = -1  # depth of the innermost open testcase
        self._text: Text | None = None

    def start(self, tag: str, attrib: Attributes) -> None:
        """An element opens: a testcase, a child of the open testcase, or anything else."""
        ends = self._ends
        depth = self._depth
        if ends:
            depth -= len(ends)
            ends.clear()
            if depth < self._case_depth:
                self.close_cases(depth)
        depth += 1
        self._depth = depth
        level = (tag, attrib)
        levels = self._levels
        if depth < len(levels):
            levels[depth] = level
        else:
            levels.append(level)
        self._text = None
        if depth == self._case_depth + 1:
            self._text = self._child(tag, attrib)
        if tag == "testcase":
            self._open.append([depth, attrib, levels[depth - 1], None])
            self._case_depth = depth

    def data(self, text: str) -> None:
        """Text: kept only in an explaining element, before its first child and its end."""
        if self._text is not None and not self._ends:
            self._text.add(text)

    def _child(self, tag: str, attrib: Attributes) -> Text | None:
        entry = self._open[-1]
        case = entry[3]
        if case is None:
            case = entry[3] = Case(entry[0], entry[1], entry[2])
        text: Text | None = case.child(tag, attrib)
        return text

    def suite_name(self, depth: int) -> str:
        """The name of the nearest testsuite above `depth` (all still open)."""
        cases = {entry[0] for entry in self._open}
        for index in range(depth - 1, 0, -1):
            tag, attrib = self._levels[index]
            if tag == "testsuite" and index not in cases:
                return str(attrib.get("name") or "")
        return ""

    def close_cases(self, depth: int) -> None:
        """Every element deeper than `depth` has closed: count the testcases among them."""
        raise NotImplementedError

    def finish(self) -> None:
        """The document has ended: every testcase is closed."""
        self._ends.clear()
        self.close_cases(0)


class _Suite:
    """An open <testsuite>: its name, how many testcases were counted before it opened, and
    its own error or failure element, if any."""

    __slots__ = ("before", "depth", "explain", "name")

    def __init__(self, depth: int, name: str, before: int) -> None:
        self.depth = depth
        self.name = name
        self.before = before
        self.explain: Explain | None = None


def _declared(attrib: Attributes) -> int:
    try:
        return int(attrib.get("tests") or 0)
    except ValueError:
        return 0


class _CountTarget(_JunitTarget):
    """Counts, duration and failures of every testcase.

    A testcase that opens while no other is open goes to a batch of plain cases (attributes
    only) and leaves it only if a child opens in it; batches are counted with C-level maps,
    in document order, before any other testcase is counted.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.result = TestResult()
        self._tally = Tally(self.result)
        self._passed = 0
        self._duration = 0.0
        self._batch: list[Attributes] = []
        self._first_parent: object = None  # the parent of the batch's testcases
        self._batch_suite = ""  # the name of their suite
        self._plain_depth = -1  # depth of the open plain testcase (the batch's last)
        self._suites: list[_Suite] = []
        self._declared = 0  # the largest tests="N" of the root or a suite
        self._pytest = False  # the root is pytest's <testsuites name="pytest tests">
        self._reruns: dict[int, Attributes] = {}  # final attempts of rerun tests, by identity
        self._skipped_at: list[int] = []  # positions in the batch of cases with a <skipped>
        self._rerun_flaky: list[str] = []

    def start(self, tag: str, attrib: Attributes) -> None:
        """An element opens; the common case (a testcase after a testcase) stays short."""
        ends = self._ends
        depth = self._depth
        if ends:
            depth -= len(ends)
            ends.clear()
            if depth < self._case_depth:
                if self._plain_depth > depth:
                    self._plain_depth = self._case_depth = -1
                else:
                    self.close_cases(depth)
        depth += 1
        self._depth = depth
        self._text = None
        if tag == "testcase" and self._case_depth < 0:
            batch = self._batch
            parent = self._levels[depth - 1]
            rerun = self._pytest and bool(batch) and attrib.get("name") == batch[-1].get("name")
            if rerun:
                rerun = self._attempt(attrib, parent)
            if len(batch) >= _BATCH or (batch and parent is not self._first_parent):
                self._flush()  # a batch holds testcases of one parent, so of one suite
            if not batch:
                self._first_parent = parent
                self._batch_suite = self.suite_name(depth)
            batch.append(attrib)
            if rerun:
                self._reruns[id(attrib)] = attrib
            self._plain_depth = self._case_depth = depth
            return
        self._other(tag, attrib, depth)

    def _attempt(self, attrib: Attributes, parent: object) -> bool:
        """In pytest's output, a testcase right after an empty one with the same classname and
        name in the same suite: the earlier one was a failed attempt (pytest-rerunfailures
        writes those empty) and does not count; this one is the test's outcome, flaky when it
        passes. (Other producers, mocha for one, write distinct tests with the same name.)"""
        previous = self._batch[-1]
        if parent is not self._first_parent or previous.get("classname") != attrib.get("classname"):
            return False
        self._batch.pop()
        self._add_time(previous.get("time"))
        self._reruns.pop(id(previous), None)
        return True

    def _other(self, tag: str, attrib: Attributes, depth: int) -> None:
        plain = self._plain_depth
        if plain > 0 and depth == plain + 1 and tag in _KEPT_PLAIN and not self._pytest:
            self._keep_plain(tag, attrib, depth)
            return
        if plain > 0:  # a child (or a nested testcase, or deeper): no longer plain
            self._leave_batch(plain)
        if depth == self._case_depth + 1:
            self._text = self._child(tag, attrib)
        if tag == "testcase":
            inside = self._open and self._open[-1][0] == depth - 1
            parent = self._open[-1] if inside else self._levels[depth - 1]
            self._open.append([depth, attrib, parent, None])
            self._case_depth = depth
            return
        self._set_level(depth, (tag, attrib))
        if self._suites and self._suites[-1].depth >= depth:
            self._close_suites(depth)
        if tag in ("testsuite", "testsuites"):
            self._declared = max(self._declared, _declared(attrib))
            if depth == 1:
                self._pytest = attrib.get("name") == "pytest tests"
            if tag == "testsuite":
                name = str(attrib.get("name") or "")
                self._suites.append(_Suite(depth, name, self._counted()))
        elif tag in ("error", "failure") and self._case_depth < 0 and self._suites:
            suite = self._suites[-1]
            if suite.depth == depth - 1 and suite.explain is None:
                suite.explain = Explain(tag, attrib)
                self._text = suite.explain.text

    def _keep_plain(self, tag: str, attrib: Attributes, depth: int) -> None:
        """Captured output says nothing of the outcome, and a <skipped> only that the case is
        skipped: the testcase stays in the batch (marked skipped) and no text is gathered.
        (pytest's files keep the closer look: an attempt of pytest-rerunfailures is told by
        having no child.)"""
        if tag == "skipped":
            position = len(self._batch) - 1
            if not self._skipped_at or self._skipped_at[-1] != position:
                self._skipped_at.append(position)
        self._set_level(depth, (tag, attrib))

    def _leave_batch(self, plain: int) -> None:
        """The plain testcase at depth `plain` needs a closer look: it leaves the batch, with
        its <skipped> mark if it has one."""
        attrib = self._batch.pop()
        case = None
        marks = self._skipped_at
        if marks and marks[-1] == len(self._batch):
            marks.pop()
            case = Case(plain, attrib, self._levels[plain - 1])
            case.skipped = True
        self._open.append([plain, attrib, self._levels[plain - 1], case])
        self._plain_depth = -1

    def _set_level(self, depth: int, level: _Level) -> None:
        levels = self._levels
        if depth < len(levels):
            levels[depth] = level
        else:
            levels.append(level)

    def _counted(self) -> int:
        return self.result.total + len(self._batch)

    def _close_suites(self, depth: int) -> None:
        """Suites at `depth` or deeper have closed: one without testcases but with its own
        error or failure is one errored test."""
        while self._suites and self._suites[-1].depth >= depth:
            suite = self._suites.pop()
            if suite.explain is None or self._counted() > suite.before:
                continue
            self._flush()
            self.result.total += 1
            self.result.errors += 1
            self.result.failures.append(
                FailureRecord(
                    suite=suite.name,
                    name=suite.name,
                    classname=suite.name,
                    file=None,
                    line=None,
                    message=suite.explain.message(),
                    kind="error",
                )
            )

    def close_cases(self, depth: int) -> None:
        """Count closed testcases (after the batch): plain passes here, the rest in the tally."""
        open_cases = self._open
        while open_cases and open_cases[-1][0] > depth:
            self._flush()
            case_depth, attrib, parent, case = open_cases[-1]
            self.result.total += 1
            self._add_time(attrib.get("time"))
            if case is None and not attrib.get("status") and not self._tally.failed_ids:
                self._passed += 1
            else:
                case = case or Case(case_depth, attrib, parent)
                self._tally.add(case, self.suite_name(case_depth))
            open_cases.pop()
        self._case_depth = open_cases[-1][0] if open_cases else -1

    def _add_time(self, time: str | None) -> None:
        if time:
            try:
                value = float(time)
            except ValueError:
                value = seconds(time)
            if 0.0 < value < MAX_SECONDS:
                self._duration += value

    def _flush(self) -> None:
        """Count the batch of plain testcases, in order."""
        batch, tally = self._batch, self._tally
        if not batch:
            return
        self.result.total += len(batch)
        self._add_times(batch)
        if self._reruns:
            self._flaky_reruns(batch)
        failed, suite = tally.failed_ids, self._batch_suite
        marks = self._skipped_at
        if failed and not tally.failed_names.isdisjoint(map(_NAME, batch)):
            skipped = set(marks)
            for position, attrib in enumerate(batch):
                case = Case(0, attrib, self._first_parent)
                case.skipped = position in skipped
                tally.add(case, suite)
        elif marks:
            self._flush_marked(batch, marks)
        elif any(map(_STATUS, batch)):
            for attrib in batch:
                if attrib.get("status"):
                    tally.add(Case(0, attrib, None), "")
                else:
                    self._passed += 1
        else:
            self._passed += len(batch)
        batch.clear()
        marks.clear()

    def _flush_marked(self, batch: list[Attributes], marks: list[int]) -> None:
        """Count a batch some of whose cases have a <skipped> child (no failure to resolve)."""
        tally = self._tally
        skipped = set(marks)
        for position in marks:
            case = Case(0, batch[position], None)
            case.skipped = True
            tally.add(case, "")
        for position, attrib in enumerate(batch):
            if position in skipped:
                continue
            if attrib.get("status"):
                tally.add(Case(0, attrib, None), "")
            else:
                self._passed += 1

    def _flaky_reruns(self, batch: list[Attributes]) -> None:
        """Final attempts that passed (still plain, so in the batch) make their tests flaky."""
        reruns = self._reruns
        for attrib in batch:
            if reruns.pop(id(attrib), None) is not None and not attrib.get("status"):
                self._rerun_flaky.append(f"{attrib.get('classname') or ''}::{attrib.get('name')}")
        reruns.clear()  # the others had a child (their outcome is their own) or a status

    def _add_times(self, batch: list[Attributes]) -> None:
        """Add the batch's times in order, as `_add_time` would one by one."""
        times = list(filter(None, map(_TIME, batch)))
        try:
            values = list(map(float, times))
        except ValueError:
            values = []
        if values:
            total = reduce(add, values, self._duration)
            if not math.isnan(total) and min(values) > 0.0 and max(values) < MAX_SECONDS:
                self._duration = total  # no NaN, none out of range: the same sum
                return
        for time in times:
            self._add_time(time)

    def close(self) -> TestResult:
        """The end of the document: the totals."""
        self.finish()
        self._close_suites(0)
        self._flush()
        result, tally = self.result, self._tally
        tally.finish()
        result.flaky_tests = tally.flaky_tests + self._rerun_flaky
        if not result.total and self._declared > 0:
            result.warnings.append(
                f"the file declares {self._declared} tests but holds no <testcase>: "
                "counted as 0 tests"
            )
        result.passed = self._passed + tally.passed
        result.skipped = tally.skipped
        result.flaky = tally.flaky + len(self._rerun_flaky)
        result.duration_s = self._duration
        return result

    def finish(self) -> None:
        """The document has ended: every testcase is closed."""
        self._plain_depth = -1
        super().finish()


class _PassedIdsTarget(_JunitTarget):
    """Which of some test ids have a passing (or flaky) record."""

    def __init__(self, path: Path, wanted: set[str]) -> None:
        super().__init__(path)
        self.wanted = wanted
        self.found: set[str] = set()

    def close_cases(self, depth: int) -> None:
        """Note the ids of closed testcases that are wanted and passed."""
        open_cases = self._open
        while open_cases and open_cases[-1][0] > depth:
            _, attrib, _, case = open_cases.pop()
            test_id = f"{attrib.get('classname') or ''}::{attrib.get('name') or ''}"
            if test_id in self.wanted and (case is None or case.classify()[0] in PASSING):
                self.found.add(test_id)
        self._case_depth = open_cases[-1][0] if open_cases else -1

    def close(self) -> set[str]:
        """The end of the document: the ids found."""
        self.finish()
        return self.found


def parse_junit(path: Path) -> TestResult:
    """Counts, duration and failures of one JUnit XML file, streaming in bounded memory."""
    result: TestResult = parse_target(path, _CountTarget(path))
    return result


def passed_ids(path: Path, wanted: set[str]) -> set[str]:
    """Which of the test ids in `wanted` passed (or passed on rerun) in the JUnit file `path`."""
    if not wanted:
        return set()
    found: set[str] = parse_target(path, _PassedIdsTarget(path, wanted))
    return found


def _read(path: Path, report: ParsedReport) -> None:
    report.tests = parse_junit(path)


register(
    ReportFormat(
        name="junit",
        kind="test",
        title="JUnit XML",
        detect=lambda head: head.root in ("testsuites", "testsuite", "testcase"),
        parse=_read,
        passed_ids=passed_ids,
    )
)
