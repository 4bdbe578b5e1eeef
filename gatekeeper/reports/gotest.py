"""`go test -json` event streams (test2json), read line by line in bounded memory.

- Every test that ran counts once, parents of subtests too (as gotestsum counts them); its
  outcome is its last `pass`/`fail`/`skip` event. A test with a failed run and a passed run
  (reruns, `-count`) is passed and flaky.
- A test that started and never ended is failed when its package failed or never ended (a
  timeout, a panic, a killed run), passed when its package passed.
- A package that failed to build (`FAIL pkg [build failed]`, `[setup failed]`, or go 1.24's
  `FailedBuild`) is one errored test named after the package; so is a package that failed with no
  test that failed in any run (TestMain exiting non-zero, a race report).
- Output of a failed test (without the `=== RUN`/`--- FAIL` framing lines) is its message, capped.
- `duration_s` is the sum of the packages' `Elapsed`.
- Events without `Package` (`go tool test2json` on a test binary) belong to one unnamed package.

A failure's test id is `package::test` (a package error's is `package::package`), so a test that
failed in one stream and passed in another stream of the same packages is passed and flaky.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from gatekeeper.errors import ReportError
from gatekeeper.facts import MESSAGE_LIMIT
from gatekeeper.reports.model import FailureRecord, ParsedReport, TestResult
from gatekeeper.reports.registry import Head, ReportFormat, register

MAX_LINE_BYTES = 1024 * 1024
"""Longest event line read; test2json itself splits output lines at a few KiB."""

_FRAMING = re.compile(r"^\s*(?:=== (?:RUN|PAUSE|CONT|NAME)|--- (?:FAIL|PASS|SKIP):)")
_PLACE = re.compile(r"^\s+([\w./-]+\.go):(\d+): ")
_BUILD_FAILED = re.compile(r"^FAIL\s+(\S+)\s+\[(?:build|setup) failed\]")
_ENDS = {action: action for action in ("pass", "fail", "skip")}


@dataclass(slots=True)
class _Test:
    """One test of a package: kept for every test of the stream, so kept small."""

    ever_passed: bool = False
    ever_failed: bool = False
    last: str | None = None
    output: list[str] | None = None  # only until a run passes: a passed test shows no message
    size: int = 0

    def add_output(self, text: str) -> None:
        if not self.ever_passed and self.size < MESSAGE_LIMIT and not _FRAMING.match(text):
            if self.output is None:
                self.output = []
            self.output.append(text)
            self.size += len(text)

    def end(self, action: str) -> None:
        self.last = _ENDS[action]  # the shared constant, not the decoded string of each event
        if action == "pass":
            self.ever_passed = True
            self.output = None
        elif action == "fail":
            self.ever_failed = True


@dataclass(slots=True)
class _Package:
    outcome: str | None = None
    elapsed: float = 0.0
    build_failed: bool = False
    output: list[str] = field(default_factory=list)
    size: int = 0


class _Stream:
    def __init__(self, path: Path, *, only: set[tuple[str, str]] | None = None) -> None:
        self.path = path
        self.only = only
        self.tests: dict[tuple[str, str], _Test] = {}
        self.names: dict[str, str] = {}  # one string per package name, not one per event
        self.packages: dict[str, _Package] = {}

    def package(self, name: str) -> _Package:
        found = self.packages.get(name)
        if found is None:
            found = self.packages[name] = _Package()
        return found

    def event(self, number: int, event: object) -> None:
        if not isinstance(event, dict):
            raise ReportError(self.path, "a go test -json event is not a JSON object", line=number)
        action, package, test = event.get("Action"), event.get("Package"), event.get("Test")
        if isinstance(action, str) and package is None and "ImportPath" not in event:
            package = ""  # `go tool test2json` run on a test binary names no package
        if not isinstance(action, str) or not isinstance(package, str):
            package = event.get("ImportPath")
            if action in ("build-output", "build-fail") and isinstance(package, str):
                self.package(package).build_failed |= action == "build-fail"
                return
            raise ReportError(self.path, "an event without Action or Package", line=number)
        if isinstance(test, str) and test:
            self._test_event(action, package, test, event)
        else:
            self._package_event(action, package, event)

    def _test_event(self, action: str, package: str, name: str, event: dict[str, object]) -> None:
        key = (package, name)
        test = self.tests.get(key)
        if test is None:
            if self.only is not None and key not in self.only:
                return
            key = (self.names.setdefault(package, package), name)
            test = self.tests[key] = _Test()
        if action == "output":
            text = event.get("Output")
            if isinstance(text, str) and self.only is None:
                test.add_output(text)
        elif action in _ENDS:
            test.end(action)
        elif action == "run" and test.last is not None:
            test.last = None  # a rerun: the new run has not ended yet

    def _package_event(self, action: str, name: str, event: dict[str, object]) -> None:
        package = self.package(name)
        if action == "output":
            text = event.get("Output")
            if isinstance(text, str):
                if "[build failed]" in text or "[setup failed]" in text:
                    package.build_failed = True
                if package.size < MESSAGE_LIMIT:
                    package.output.append(text)
                    package.size += len(text)
        elif action in ("pass", "fail", "skip"):
            package.outcome = action
            if event.get("FailedBuild"):
                package.build_failed = True
            elapsed = event.get("Elapsed")
            if isinstance(elapsed, (int, float)) and 0 < elapsed < 1e15:
                package.elapsed += float(elapsed)

    def text_line(self, text: str) -> None:
        found = _BUILD_FAILED.match(text)
        if found is not None:
            package = self.package(found.group(1))
            package.build_failed = True
            package.outcome = "fail"
            package.output.append(text)


def _message(parts: list[str]) -> str:
    return "".join(parts).strip()[:MESSAGE_LIMIT]


def _record(package: str, name: str, test: _Test, kind: str) -> FailureRecord:
    file = line = None
    output = test.output or []
    for text in output:
        place = _PLACE.match(text)
        if place is not None:
            file, line = place.group(1), int(place.group(2))
            break
    return FailureRecord(package, name, package, file, line, _message(output), kind)


def _result(stream: _Stream) -> TestResult:
    result = TestResult()
    failing_packages: set[str] = set()
    for (package_name, name), test in stream.tests.items():
        package = stream.packages.get(package_name)
        outcome = test.last
        if outcome is None:
            vouched = package is not None and package.outcome == "pass"
            outcome = "pass" if vouched else "fail"
        result.total += 1
        if test.ever_failed or outcome == "fail":
            failing_packages.add(package_name)
        if test.ever_passed or outcome == "pass":
            result.passed += 1
            if test.ever_failed:
                result.flaky += 1
        elif outcome == "skip":
            result.skipped += 1
        else:
            result.failed += 1
            result.failures.append(_record(package_name, name, test, "failure"))
    for name, package in stream.packages.items():
        result.duration_s += package.elapsed
        broken = package.build_failed or (
            package.outcome == "fail" and name not in failing_packages
        )
        if broken:
            why = "failed to build" if package.build_failed else "failed with no failing test"
            message = _message(package.output) or f"the package {why}"
            result.total += 1
            result.errors += 1
            result.failures.append(FailureRecord(name, name, name, None, None, message, "error"))
    return result


def _read_stream(stream: _Stream) -> None:
    path = stream.path
    try:
        with path.open("rb") as handle:
            number = 0
            while raw := handle.readline(MAX_LINE_BYTES + 1):
                number += 1
                if len(raw) > MAX_LINE_BYTES:
                    raise ReportError(path, "line longer than 1 MiB", line=number)
                text = raw.decode("utf-8", errors="replace")
                if not text.lstrip().startswith("{"):
                    stream.text_line(text.strip())
                    continue
                try:
                    event = json.loads(text)
                except json.JSONDecodeError as error:
                    raise ReportError(
                        path, f"invalid JSON: {error.msg}", line=number, column=error.colno
                    ) from None
                except RecursionError:
                    raise ReportError(path, "JSON nested too deeply", line=number) from None
                stream.event(number, event)
    except OSError as error:
        raise ReportError(path, f"cannot read the file: {error.strerror or error}") from None


def parse_gotest(path: Path) -> TestResult:
    """Counts, duration and failures of one `go test -json` stream."""
    stream = _Stream(path)
    _read_stream(stream)
    if not stream.tests and not stream.packages:
        raise ReportError(path, "no go test -json events in the file")
    return _result(stream)


def passed_ids(path: Path, wanted: set[str]) -> set[str]:
    """Which of the test ids in `wanted` (`package::test`) passed in the stream at `path`.

    A test passed as `parse_gotest` counts it (a passing run, or no end in a passed package); a
    package error (`package::package`) passed when that package built and passed.
    """
    keys = {(package, name) for package, _, name in (i.partition("::") for i in wanted)}
    if not keys:
        return set()
    stream = _Stream(path, only=keys)
    _read_stream(stream)
    found: set[str] = set()
    for (package_name, name), test in stream.tests.items():
        package = stream.packages.get(package_name)
        unended_in_passed = test.last is None and package is not None and package.outcome == "pass"
        if test.ever_passed or unended_in_passed:
            found.add(f"{package_name}::{name}")
    for package_name, package in stream.packages.items():
        built_and_passed = package.outcome == "pass" and not package.build_failed
        if (package_name, package_name) in keys and built_and_passed:
            found.add(f"{package_name}::{package_name}")
    return found


_DETECT_LINES = 64
"""Lines of the head searched for the first event (go build errors may come first).

Detection runs before the other JSON formats (`priority`): it parses that one line, which no
coverage.py or unread JSON report passes."""


def _is_gotest(head: Head) -> bool:
    """A `go test -json` stream: its first JSON line is an object with `Action` and `Package`
    or `Time` (text lines before it, such as `FAIL pkg [build failed]`, are skipped)."""
    if head.is_xml:
        return False
    for line in head.body.split(b"\n", _DETECT_LINES)[:_DETECT_LINES]:
        stripped = line.strip()
        if not stripped.startswith(b"{"):
            if stripped.startswith((b"[", b"<")):
                return False
            continue
        try:
            event = json.loads(stripped)
        except (ValueError, RecursionError):  # cut by the head, or broken: the parser says where
            return b'"Action"' in stripped and (b'"Package"' in stripped or b'"Time"' in stripped)
        return (
            isinstance(event, dict)
            and "Action" in event
            and ("Package" in event or "Time" in event)
        )
    return False


def _read(path: Path, report: ParsedReport) -> None:
    report.tests = parse_gotest(path)


register(
    ReportFormat(
        name="gotest",
        kind="test",
        title="go test -json (test2json JSON lines)",
        detect=_is_gotest,
        parse=_read,
        passed_ids=passed_ids,
        producer="go test",
        priority=50,
    )
)
