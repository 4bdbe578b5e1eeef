"""JUnit XML in every dialect: counts from the <testcase> elements, never from declared totals.

Each testcase gets exactly one outcome, so `total = passed + failed + errors + skipped`:

- any ``<error>`` -> error; else any ``<failure>`` -> failed (a case with both a failure and a skip
  is failed; the plain per-column count would put it in both columns);
- ``<rerunFailure>``/``<rerunError>`` with no passing run -> failed (or error) once;
- ``<skipped>``, or ``status="disabled"``/``"notrun"`` or ``result="suppressed"``/``"skipped"``
  (CTest, googletest) -> skipped;
- ``<flakyFailure>``/``<flakyError>`` in a case that finally passed (Surefire, the flaky-failure
  convention of pytest-rerunfailures) -> passed and flaky;
- a passing record right after one or more failing records with the same suite, classname and
  name (reruns written as separate records: TestNG retries, pytest-rerunfailures) -> the failed
  attempts are dropped and the test is passed and flaky;
- otherwise passed.

Duration is the sum of testcase ``time`` values in seconds: "2,503.1" reads as 2503.1; negative,
non-finite or unparsable values count as 0; values are taken as seconds even where a producer
wrote nanoseconds (container-structure-test), because no reliable marker says so.

One pass of an lxml parser target, no tree: Python sees element starts; text is kept only inside
failure and error elements, and only up to the message limit.
"""

from __future__ import annotations

import math
from functools import reduce
from itertools import islice
from operator import add, methodcaller
from pathlib import Path
from typing import Any

from gatekeeper.facts import MESSAGE_LIMIT
from gatekeeper.reports._xml import StreamTarget, parse_target
from gatekeeper.reports.model import FailureRecord, TestResult

Attributes = dict[str, str]
_Level = tuple[str, Attributes]
"""An open element's tag and attributes; a fresh tuple per element, so its identity is the
element's (lxml may hand the same empty dict to every element without attributes)."""

_MAX_SECONDS = 1e15
_PASSING = ("passed", "flaky")
# googletest writes status="notrun" result="suppressed" for DISABLED_ tests; CTest "disabled".
_NOT_RUN = frozenset({"disabled", "notrun", "suppressed", "skipped"})
_EXPLAINING = frozenset({"failure", "error", "rerunFailure", "rerunError"})
_BATCH = 4096
"""Plain testcases kept (attributes only) before they are counted."""
_STATUS = methodcaller("get", "status")
_TIME = methodcaller("get", "time")


def seconds(text: str) -> float:
    """A testcase time in seconds, leniently: commas as thousands separators, junk as 0."""
    try:
        value = float(text)
    except ValueError:
        try:
            value = float(text.replace(",", "").strip())
        except ValueError:
            return 0.0
    return value if 0.0 < value < _MAX_SECONDS else 0.0


def _int_or_none(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


class _Text:
    """The text of an element before its first child, stripped and capped at MESSAGE_LIMIT,
    gathered in bounded memory however long it is."""

    __slots__ = ("beyond", "parts", "size")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.beyond = False  # text (not only whitespace) found past the cap

    def add(self, chunk: str) -> None:
        """One chunk of character data."""
        if not self.size:
            chunk = chunk.lstrip()
        if self.size < MESSAGE_LIMIT:
            self.parts.append(chunk)
            self.size += len(chunk)
        elif not self.beyond and chunk and not chunk.isspace():
            self.beyond = True

    def value(self) -> str:
        """Equal to ``text.strip()[:MESSAGE_LIMIT]`` of the whole text."""
        text = "".join(self.parts)
        beyond = self.beyond or (len(text) > MESSAGE_LIMIT and not text[MESSAGE_LIMIT:].isspace())
        return text[:MESSAGE_LIMIT] if beyond else text[:MESSAGE_LIMIT].rstrip()


class _Explain:
    """A failure, error or rerun child: its tag, attributes and (when it has no message) text."""

    __slots__ = ("attrib", "tag", "text")

    def __init__(self, tag: str, attrib: Attributes) -> None:
        self.tag = tag
        self.attrib = attrib
        self.text = None if attrib.get("message") else _Text()

    def message(self) -> str:
        text = self.attrib.get("message")
        if not text:
            text = self.text.value() if self.text is not None else ""
        return str(text)[:MESSAGE_LIMIT]


class _Case:
    """One open testcase: its attributes, parent, and what its direct children say."""

    __slots__ = (
        "attrib",
        "children",
        "depth",
        "error",
        "failure",
        "flaky",
        "parent",
        "rerun",
        "skipped",
    )

    def __init__(self, depth: int, attrib: Attributes, parent: object) -> None:
        self.depth = depth
        self.attrib = attrib
        self.parent = parent  # the parent element's entry, compared by identity
        self.children = self.skipped = self.flaky = False
        self.failure: _Explain | None = None
        self.error: _Explain | None = None
        self.rerun: _Explain | None = None

    def child(self, tag: str, attrib: Attributes) -> _Text | None:
        """A direct child opens; the explaining element whose text is wanted, if any."""
        self.children = True
        if tag in _EXPLAINING:
            slot = tag if tag in ("failure", "error") else "rerun"
            if getattr(self, slot) is not None:
                return None
            explain = _Explain(tag, attrib)
            setattr(self, slot, explain)
            return explain.text
        if tag == "skipped":
            self.skipped = True
        elif tag in ("flakyFailure", "flakyError"):
            self.flaky = True
        return None

    def classify(self) -> tuple[str, _Explain | None]:
        """The outcome, and the element that explains a failure."""
        if self.error is not None:
            return "error", self.error
        if self.failure is not None:
            return "failure", self.failure
        if self.rerun is not None:
            return ("error" if self.rerun.tag == "rerunError" else "failure"), self.rerun
        attrib = self.attrib
        if self.skipped or attrib.get("status") in _NOT_RUN or attrib.get("result") in _NOT_RUN:
            return "skipped", None
        return ("flaky" if self.flaky else "passed"), None

    def key(self) -> tuple[int, str | None, str | None]:
        """Same parent element, classname and name: a rerun record of the same test."""
        return (id(self.parent), self.attrib.get("classname"), self.attrib.get("name"))


class _Tally:
    """Counts of the testcases that need a closer look (children, status, a rerun to match)."""

    __slots__ = ("failed_run", "flaky", "parent", "passed", "previous_failed", "result", "skipped")

    def __init__(self, result: TestResult) -> None:
        self.result = result
        self.passed = self.skipped = self.flaky = self.failed_run = 0
        self.previous_failed: tuple[int, str | None, str | None] | None = None
        self.parent: object = None  # keeps the id in `previous_failed` unique

    def _drop_failed_attempts(self, case: _Case) -> bool:
        """Drop the failed records just before a passing record of the same test."""
        if case.key() != self.previous_failed:
            return False
        for _ in range(self.failed_run):
            dropped = self.result.failures.pop()
            self.result.total -= 1
            if dropped.kind == "error":
                self.result.errors -= 1
            else:
                self.result.failed -= 1
        return True

    def add(self, case: _Case, suite: str) -> None:
        """Count one testcase that has children, a status, or follows a failure."""
        outcome, explain = case.classify()
        if outcome in _PASSING:
            self.passed += 1
            rerun = self.previous_failed is not None and self._drop_failed_attempts(case)
            if outcome == "flaky" or rerun:
                self.flaky += 1
            self.previous_failed = self.parent = None
        elif outcome == "skipped":
            self.skipped += 1
            self.previous_failed = self.parent = None
        else:
            self.result.failures.append(_record(case, outcome, explain, suite))
            if outcome == "error":
                self.result.errors += 1
            else:
                self.result.failed += 1
            key = case.key()
            self.failed_run = self.failed_run + 1 if key == self.previous_failed else 1
            self.previous_failed, self.parent = key, case.parent


def _record(case: _Case, kind: str, explain: _Explain | None, suite: str) -> FailureRecord:
    attrib = case.attrib
    return FailureRecord(
        suite=suite,
        name=str(attrib.get("name") or ""),
        classname=str(attrib.get("classname") or ""),
        file=attrib.get("file"),
        line=_int_or_none(attrib.get("line")),
        message=explain.message() if explain is not None else "",
        kind=kind,
    )


class _JunitTarget(StreamTarget):
    """The parser target: testcases, their direct children, and the text that explains them.

    An open testcase is a list ``[depth, attributes, parent, case]``; the `_Case` is made only
    when the testcase has a child or needs a closer look, so plain passes stay cheap.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._levels: list[_Level] = [("", {})]  # the element last opened at each depth
        self._open: list[list[Any]] = []
        self._case_depth = -1  # depth of the innermost open testcase
        self._text: _Text | None = None

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

    def _child(self, tag: str, attrib: Attributes) -> _Text | None:
        entry = self._open[-1]
        case = entry[3]
        if case is None:
            case = entry[3] = _Case(entry[0], entry[1], entry[2])
        text: _Text | None = case.child(tag, attrib)
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


class _CountTarget(_JunitTarget):
    """Counts, duration and failures of every testcase.

    A testcase that opens while no other is open goes to a batch of plain cases (attributes
    only) and leaves it only if a child opens in it; batches are counted with C-level maps,
    in document order, before any other testcase is counted.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.result = TestResult()
        self._tally = _Tally(self.result)
        self._passed = 0
        self._duration = 0.0
        self._batch: list[Attributes] = []
        self._first_parent: object = None  # the parent of the batch's first testcase
        self._plain_depth = -1  # depth of the open plain testcase (the batch's last)

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
            if len(batch) >= _BATCH:
                self._flush()
            if not batch:
                self._first_parent = self._levels[depth - 1]
            batch.append(attrib)
            self._plain_depth = self._case_depth = depth
            return
        self._other(tag, attrib, depth)

    def _other(self, tag: str, attrib: Attributes, depth: int) -> None:
        if self._plain_depth > 0 and (depth == self._plain_depth + 1 or tag == "testcase"):
            plain = self._plain_depth  # a child (or a nested testcase): no longer plain
            self._open.append([plain, self._batch.pop(), self._levels[plain - 1], None])
            self._plain_depth = -1
        if depth == self._case_depth + 1:
            self._text = self._child(tag, attrib)
        if tag == "testcase":
            inside = self._open and self._open[-1][0] == depth - 1
            parent = self._open[-1] if inside else self._levels[depth - 1]
            self._open.append([depth, attrib, parent, None])
            self._case_depth = depth
            return
        level = (tag, attrib)
        levels = self._levels
        if depth < len(levels):
            levels[depth] = level
        else:
            levels.append(level)

    def close_cases(self, depth: int) -> None:
        """Count closed testcases (after the batch): plain passes here, the rest in the tally."""
        open_cases = self._open
        while open_cases and open_cases[-1][0] > depth:
            self._flush()
            case_depth, attrib, parent, case = open_cases[-1]
            self.result.total += 1
            self._add_time(attrib.get("time"))
            if case is None and self._tally.previous_failed is None and not attrib.get("status"):
                self._passed += 1
            else:
                case = case or _Case(case_depth, attrib, parent)
                self._tally.add(case, self.suite_name(case_depth))
            open_cases.pop()
        self._case_depth = open_cases[-1][0] if open_cases else -1

    def _add_time(self, time: str | None) -> None:
        if time:
            try:
                value = float(time)
            except ValueError:
                value = seconds(time)
            if 0.0 < value < _MAX_SECONDS:
                self._duration += value

    def _flush(self) -> None:
        """Count the batch of plain testcases, in order."""
        batch, tally = self._batch, self._tally
        if not batch:
            return
        self.result.total += len(batch)
        self._add_times(batch)
        first = 0
        if tally.previous_failed is not None:
            tally.add(_Case(0, batch[0], self._first_parent), "")
            first = 1
        if any(map(_STATUS, batch)):
            for attrib in islice(batch, first, None):
                if attrib.get("status"):
                    tally.add(_Case(0, attrib, None), "")
                else:
                    self._passed += 1
        else:
            self._passed += len(batch) - first
        batch.clear()

    def _add_times(self, batch: list[Attributes]) -> None:
        """Add the batch's times in order, as `_add_time` would one by one."""
        times = list(filter(None, map(_TIME, batch)))
        try:
            values = list(map(float, times))
        except ValueError:
            values = []
        if values:
            total = reduce(add, values, self._duration)
            if not math.isnan(total) and min(values) > 0.0 and max(values) < _MAX_SECONDS:
                self._duration = total  # no NaN, none out of range: the same sum
                return
        for time in times:
            self._add_time(time)

    def close(self) -> TestResult:
        """The end of the document: the totals."""
        self.finish()
        self._flush()
        result, tally = self.result, self._tally
        result.passed = self._passed + tally.passed
        result.skipped = tally.skipped
        result.flaky = tally.flaky
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
            if test_id in self.wanted and (case is None or case.classify()[0] in _PASSING):
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
