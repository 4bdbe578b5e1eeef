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
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gatekeeper.facts import MESSAGE_LIMIT
from gatekeeper.reports._xml import check_parsed, drop_previous, open_events, xml_errors
from gatekeeper.reports.model import FailureRecord, TestResult

_MAX_SECONDS = 1e15
_TRIM_EVERY = 256
_PASSING = ("passed", "flaky")
# googletest writes status="notrun" result="suppressed" for DISABLED_ tests; CTest "disabled".
_NOT_RUN = frozenset({"disabled", "notrun", "suppressed", "skipped"})


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


def _suite_name(element: Any) -> str:
    parent = element.getparent()
    while parent is not None:
        if parent.tag == "testsuite":
            return str(parent.get("name") or "")
        parent = parent.getparent()
    return ""


def _message(result: Any) -> str:
    text = result.get("message")
    if not text:
        text = (result.text or "").strip()
    return str(text)[:MESSAGE_LIMIT]


def _classify(element: Any) -> tuple[str, Any]:
    """The outcome of a testcase with children, and the element that explains a failure."""
    failure = error = rerun = None
    skipped = flaky = False
    for child in element:
        tag = child.tag
        if tag == "failure":
            failure = failure if failure is not None else child
        elif tag == "error":
            error = error if error is not None else child
        elif tag == "skipped":
            skipped = True
        elif tag in ("rerunFailure", "rerunError"):
            rerun = rerun if rerun is not None else child
        elif tag in ("flakyFailure", "flakyError"):
            flaky = True
    if error is not None:
        return "error", error
    if failure is not None:
        return "failure", failure
    if rerun is not None:
        return ("error" if rerun.tag == "rerunError" else "failure"), rerun
    if skipped or element.get("status") in _NOT_RUN or element.get("result") in _NOT_RUN:
        return "skipped", None
    return ("flaky" if flaky else "passed"), None


def _record(element: Any, kind: str, explain: Any) -> FailureRecord:
    return FailureRecord(
        suite=_suite_name(element),
        name=str(element.get("name") or ""),
        classname=str(element.get("classname") or ""),
        file=element.get("file"),
        line=_int_or_none(element.get("line")),
        message=_message(explain),
        kind=kind,
    )


def _key(element: Any) -> tuple[Any, ...]:
    return (element.getparent(), element.get("classname"), element.get("name"))


class _Tally:
    """Counts of the testcases that need a closer look (children, status, a rerun to match)."""

    __slots__ = (
        "failed_run",
        "failures",
        "flaky",
        "passed",
        "previous_failed",
        "result",
        "skipped",
    )

    def __init__(self, result: TestResult) -> None:
        self.result = result
        self.failures = result.failures
        self.passed = self.skipped = self.flaky = self.failed_run = 0
        self.previous_failed: tuple[Any, ...] | None = None

    def _drop_failed_attempts(self, element: Any) -> bool:
        """Drop the failed records just before a passing record of the same test."""
        if _key(element) != self.previous_failed:
            return False
        for _ in range(self.failed_run):
            dropped = self.failures.pop()
            self.result.total -= 1
            if dropped.kind == "error":
                self.result.errors -= 1
            else:
                self.result.failed -= 1
        return True

    def add(self, element: Any) -> None:
        """Count one testcase that has children, a status, or follows a failure."""
        outcome, explain = _classify(element)
        if outcome in _PASSING:
            self.passed += 1
            rerun = self.previous_failed is not None and self._drop_failed_attempts(element)
            if outcome == "flaky" or rerun:
                self.flaky += 1
            self.previous_failed = None
        elif outcome == "skipped":
            self.skipped += 1
            self.previous_failed = None
        else:
            self.failures.append(_record(element, outcome, explain))
            if outcome == "error":
                self.result.errors += 1
            else:
                self.result.failed += 1
            key = _key(element)
            self.failed_run = self.failed_run + 1 if key == self.previous_failed else 1
            self.previous_failed = key


def parse_junit(path: Path) -> TestResult:
    """Counts, duration and failures of one JUnit XML file, streaming in bounded memory."""
    result = TestResult()
    tally = _Tally(result)
    total = passed = since_trim = 0
    duration = 0.0
    context = open_events(path, ("testcase",))
    with xml_errors(path):
        for _, element in context:
            total += 1
            time = element.get("time")
            if time:
                try:
                    value = float(time)
                except ValueError:
                    value = seconds(time)
                if 0.0 < value < _MAX_SECONDS:
                    duration += value
            if len(element) or tally.previous_failed is not None or element.get("status"):
                tally.add(element)
            else:
                passed += 1
            since_trim += 1
            if since_trim >= _TRIM_EVERY:
                since_trim = 0
                drop_previous(element)
        check_parsed(path, context)
    result.total += total
    result.passed = passed + tally.passed
    result.skipped = tally.skipped
    result.flaky = tally.flaky
    result.duration_s = duration
    return result


def passed_ids(path: Path, wanted: set[str]) -> set[str]:
    """Which of the test ids in `wanted` passed (or passed on rerun) in the JUnit file `path`."""
    found: set[str] = set()
    if not wanted:
        return found
    context = open_events(path, ("testcase",))
    with xml_errors(path):
        for _, element in context:
            test_id = f"{element.get('classname') or ''}::{element.get('name') or ''}"
            if test_id in wanted and (len(element) == 0 or _classify(element)[0] in _PASSING):
                found.add(test_id)
            drop_previous(element)
    return found
