"""The streaming engine of the .NET test formats (NUnit, xUnit.net, TRX): one parser target that
finds each test element, its outcome, duration and message, in one pass and bounded memory.

A format gives a `Dialect`: which element is a test, how its attributes and children map to one
outcome (passed, failed, error, skipped), its duration in seconds, its classname and name, and
which child elements hold its message. Counts always come from the test elements, never from the
totals a file declares. Text is kept only inside message elements, up to the message limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gatekeeper.reports._junit_cases import MAX_SECONDS, Text
from gatekeeper.reports._xml import StreamTarget, parse_target
from gatekeeper.reports.model import FailureRecord, ParsedReport, TestResult
from gatekeeper.reports.registry import Head, ReportFormat, register

Attributes = dict[str, str]
OUTCOMES = ("passed", "failed", "error", "skipped")


_NO_CHILDREN: frozenset[str] = frozenset()


class Test:
    """One open test element: its attributes, the names of its descendants, its message."""

    __slots__ = ("attrib", "children", "depth", "message", "nested")

    def __init__(self, attrib: Attributes, depth: int) -> None:
        self.attrib = attrib
        self.depth = depth
        self.children: frozenset[str] | set[str] = _NO_CHILDREN  # a set once one opens
        self.message: Text | None = None
        self.nested = False  # holds another test element (a TRX data-driven parent)


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one format writes tests.

    `outcome` sees a closed test and returns one of `OUTCOMES`; `seconds` its duration;
    `ids` its (suite, classname, name); `message_tags` the elements whose first text is the
    message (the first one met wins); `error_tags` elements outside any test that are one
    errored test each (xUnit.net v2's assembly `<error>`), named by their `name` or `type`.
    A test element that holds other test elements is not counted (only leaves are).
    """

    test_tags: frozenset[str]
    outcome: Callable[[Test], str]
    seconds: Callable[[Attributes], float]
    ids: Callable[[Attributes, str], tuple[str, str, str]]
    message_tags: frozenset[str] = frozenset({"message"})
    suite_tags: frozenset[str] = frozenset()
    error_tags: frozenset[str] = frozenset()


def local(tag: str) -> str:
    """The local name of a (possibly namespaced) tag."""
    return tag.rpartition("}")[2] if tag[:1] == "{" else tag


def bounded(value: float) -> float:
    """A duration in seconds, 0 when negative, not finite or absurd."""
    return value if 0.0 < value < MAX_SECONDS else 0.0


def float_seconds(text: str | None) -> float:
    """A duration written as decimal seconds; junk counts as 0."""
    if not text:
        return 0.0
    try:
        return bounded(float(text))
    except ValueError:
        return 0.0


class _Target(StreamTarget):
    def __init__(self, path: Path, dialect: Dialect, wanted: set[str] | None) -> None:
        super().__init__(path)
        del self.end  # this target handles end events itself
        self.dialect = dialect
        self.wanted = wanted
        self.found: set[str] = set()
        self.result = TestResult()
        self.tests: list[Test] = []
        self.suites: list[tuple[int, str]] = []
        self.text: Text | None = None
        self.error: Test | None = None
        self._names: dict[str, str] = {}  # tag -> local name

    def start(self, tag: str, attrib: Attributes) -> None:
        name = self._names.get(tag)
        if name is None:
            name = self._names[tag] = local(tag)
        self._depth += 1
        dialect = self.dialect
        self.text = None
        if name in dialect.test_tags:
            if self.tests:
                self.tests[-1].nested = True
            self.tests.append(Test(attrib, self._depth))
        elif self.tests:
            test = self.tests[-1]
            if not test.children:
                test.children = set()
            test.children.add(name)  # type: ignore[union-attr]
            if name in dialect.message_tags and test.message is None:
                test.message = self.text = Text()
        elif name in dialect.suite_tags:
            self.suites.append((self._depth, str(attrib.get("name") or "")))
        elif name in dialect.error_tags:
            self.error = Test(dict(attrib), self._depth)
        elif self.error is not None and name in dialect.message_tags and self.error.message is None:
            self.error.message = self.text = Text()

    def data(self, text: str) -> None:
        if self.text is not None:
            self.text.add(text)

    def end(self, tag: str) -> None:
        depth = self._depth
        self._depth -= 1
        self.text = None
        tests = self.tests
        if tests and tests[-1].depth == depth:
            self._close(tests.pop())
        elif self.error is not None and self.error.depth == depth:
            self._close_error(self.error)
            self.error = None
        elif self.suites and self.suites[-1][0] == depth:
            self.suites.pop()

    def _suite(self) -> str:
        return self.suites[-1][1] if self.suites else ""

    def _close(self, test: Test) -> None:
        if test.nested:
            return
        dialect = self.dialect
        outcome = dialect.outcome(test)
        if self.wanted is not None:
            _, classname, name = dialect.ids(test.attrib, "")
            test_id = f"{classname}::{name}"
            if outcome == "passed" and test_id in self.wanted:
                self.found.add(test_id)
            return
        result = self.result
        result.total += 1
        result.duration_s += dialect.seconds(test.attrib)
        if outcome == "passed":
            result.passed += 1
        elif outcome == "skipped":
            result.skipped += 1
        else:
            suite, classname, name = dialect.ids(test.attrib, self._suite())
            if outcome == "error":
                result.errors += 1
            else:
                result.failed += 1
            message = test.message.value() if test.message is not None else ""
            result.failures.append(
                FailureRecord(
                    suite=suite,
                    name=name,
                    classname=classname,
                    file=None,
                    line=None,
                    message=message,
                    kind="error" if outcome == "error" else "failure",
                )
            )

    def _close_error(self, error: Test) -> None:
        if self.wanted is not None:
            return
        attrib = error.attrib
        name = str(attrib.get("name") or attrib.get("type") or "error")
        self.result.total += 1
        self.result.errors += 1
        message = error.message.value() if error.message is not None else ""
        self.result.failures.append(
            FailureRecord(
                suite=self._suite(),
                name=name,
                classname=str(attrib.get("type") or ""),
                file=None,
                line=None,
                message=message,
                kind="error",
            )
        )

    def close(self) -> Test | None:
        return None


def parse_tests(path: Path, dialect: Dialect) -> _Target:
    """Run the hardened streaming parser with `dialect` over `path`; the finished target."""
    target = _Target(path, dialect, None)
    parse_target(path, target)
    return target


def count_tests(path: Path, dialect: Dialect) -> TestResult:
    """Counts, duration and failures of the tests of one file."""
    return parse_tests(path, dialect).result


def passed_ids(path: Path, wanted: set[str], dialect: Dialect) -> set[str]:
    """Which of the test ids (`classname::name`) in `wanted` passed in the file."""
    if not wanted:
        return set()
    target = _Target(path, dialect, wanted)
    parse_target(path, target)
    return target.found


def register_dialect(
    dialect: Dialect, *, name: str, title: str, detect: Callable[[Head], bool], producer: str
) -> ReportFormat:
    """Register a .NET test format read with `dialect` (its ids compare across files)."""

    def read(path: Path, report: ParsedReport) -> None:
        report.tests = count_tests(path, dialect)

    def passed(path: Path, wanted: set[str]) -> set[str]:
        return passed_ids(path, wanted, dialect)

    return register(
        ReportFormat(
            name=name,
            kind="test",
            title=title,
            detect=detect,
            parse=read,
            passed_ids=passed,
            producer=producer,
        )
    )
