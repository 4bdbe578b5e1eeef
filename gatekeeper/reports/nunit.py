"""NUnit XML: NUnit 3's `<test-run>` and NUnit 2's `<test-results>`, one outcome per `<test-case>`.

NUnit 3 (`result` and `label` of each test-case):

- `Passed` -> passed; `Warning` -> passed (the test ran and passed with a warning);
- `Failed` with label `Error`, `Invalid` or `Cancelled` -> error; other `Failed` -> failed;
- `Skipped` (label `Ignored`, `Explicit` or none) and `Inconclusive` -> skipped.

NUnit 2 (`result`, else `executed` and `success`):

- `Success` -> passed; `Failure` -> failed; `Error`, `NotRunnable` and `Cancelled` -> error;
- `Ignored`, `Skipped` and `Inconclusive` -> skipped;
- without `result`: `executed="False"` -> skipped, `success="False"` -> failed, else passed.

Parameterised tests (`Is_Even(2)`, `Is_Even(3)`) are separate test-cases and count once each.
Duration is the sum of `duration` (NUnit 3) or `time` (NUnit 2) in seconds. A failure's message is
its `<failure><message>` text (else its `<reason><message>`). The test id is `classname::name`
(NUnit 3; `name` includes the parameters) or `::name` (NUnit 2, whose `name` is the full name),
so a test failed in one NUnit file and passed in another is passed and flaky.
"""

from __future__ import annotations

from gatekeeper.reports import _dotnet
from gatekeeper.reports._dotnet import Attributes, Dialect, Test
from gatekeeper.reports.registry import Head

_V3 = {"passed": "passed", "warning": "passed", "skipped": "skipped", "inconclusive": "skipped"}
_V3_ERRORS = frozenset({"error", "invalid", "cancelled"})
_V2 = {
    "success": "passed",
    "failure": "failed",
    "error": "error",
    "notrunnable": "error",
    "cancelled": "error",
    "ignored": "skipped",
    "skipped": "skipped",
    "inconclusive": "skipped",
}


def _outcome(test: Test) -> str:
    attrib = test.attrib
    if attrib.get("result") == "Passed":
        return "passed"
    result = str(attrib.get("result") or "").lower()
    if "duration" in attrib or "label" in attrib or result in ("passed", "failed", "warning"):
        if result == "failed":
            label = str(attrib.get("label") or "").lower()
            return "error" if label in _V3_ERRORS else "failed"
        if result in _V3:
            return _V3[result]
    return _V2.get(result) or _v2_without_result(test)


def _v2_without_result(test: Test) -> str:
    """An NUnit 2 test-case without a known `result`: from `executed` and `success`."""
    attrib = test.attrib
    if str(attrib.get("executed") or "").lower() == "false":
        return "skipped"
    if str(attrib.get("success") or "").lower() == "false" or "failure" in test.children:
        return "failed"
    return "passed"


def _seconds(attrib: Attributes) -> float:
    return _dotnet.float_seconds(attrib.get("duration") or attrib.get("time"))


def _ids(attrib: Attributes, suite: str) -> tuple[str, str, str]:
    return suite, str(attrib.get("classname") or ""), str(attrib.get("name") or "")


DIALECT = Dialect(
    test_tags=frozenset({"test-case"}),
    outcome=_outcome,
    seconds=_seconds,
    ids=_ids,
    message_tags=frozenset({"message"}),
    suite_tags=frozenset({"test-suite"}),
)


def _detect(head: Head) -> bool:
    """NUnit's roots; a bare NUnit 3 `<test-suite type=...>` (one suite's result) too."""
    if head.root in ("test-run", "test-results"):
        return True
    return head.root == "test-suite" and b"type=" in head.root_attributes


_dotnet.register_dialect(
    DIALECT,
    name="nunit",
    title="NUnit XML",
    detect=_detect,
    producer="nunit",
)
