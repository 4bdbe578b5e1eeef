"""Visual Studio TRX (`<TestRun>`, namespace .../TeamTest/2010), one outcome per `<UnitTestResult>`.

Outcomes (`outcome` of each result; VSTest's `TestOutcome` values):

- `Passed`, `PassedButRunAborted`, `Warning`, `Completed` -> passed;
- `Failed` -> failed; `Error`, `Timeout`, `Aborted`, `Disconnected` -> error;
- `NotExecuted`, `Inconclusive`, `NotRunnable`, `Pending`, `InProgress` -> skipped (never run to an
  end); an unknown or missing outcome -> error, so it is never a silent pass.

A data-driven test's parent result, which holds its rows under `<InnerResults>`, is not counted:
each row is one test. Duration is the sum of the results' `duration` (`hh:mm:ss.fffffff`). A
failure's message is its `<Output><ErrorInfo><Message>` text. The test id is `::testName`
(`testName` is the full name VSTest shows; TRX's class names live in `<TestDefinitions>`, after
the results, and are not read), so a test failed in one TRX file and passed in another is passed
and flaky. `<ResultSummary>` counters are never read.
"""

from __future__ import annotations

import re

from gatekeeper.reports import _dotnet
from gatekeeper.reports._dotnet import Attributes, Dialect, Test
from gatekeeper.reports.registry import Head

NAMESPACE = b"http://microsoft.com/schemas/VisualStudio/TeamTest/2010"
_OUTCOMES = {
    **dict.fromkeys(("passed", "passedbutrunaborted", "warning", "completed"), "passed"),
    "failed": "failed",
    **dict.fromkeys(("error", "timeout", "aborted", "disconnected"), "error"),
    **dict.fromkeys(
        ("notexecuted", "inconclusive", "notrunnable", "pending", "inprogress"), "skipped"
    ),
}
_DURATION = re.compile(r"^\s*(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d*)?)\s*$")


_EXACT = {"Passed": "passed", "Failed": "failed", "NotExecuted": "skipped"}


def _outcome(test: Test) -> str:
    outcome = test.attrib.get("outcome")
    found = _EXACT.get(outcome) if outcome is not None else None
    return found or _OUTCOMES.get(str(outcome or "").lower(), "error")


def duration(text: str | None) -> float:
    """A TRX duration (`[d.]hh:mm:ss[.fffffff]`) in seconds; junk counts as 0."""
    found = _DURATION.match(text or "")
    if found is None:
        return 0.0
    days, hours, minutes, seconds = found.groups()
    total = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    return _dotnet.bounded(total)


def _seconds(attrib: Attributes) -> float:
    return duration(attrib.get("duration"))


def _ids(attrib: Attributes, suite: str) -> tuple[str, str, str]:
    return suite, "", str(attrib.get("testName") or "")


DIALECT = Dialect(
    test_tags=frozenset({"UnitTestResult"}),
    outcome=_outcome,
    seconds=_seconds,
    ids=_ids,
    message_tags=frozenset({"Message"}),
)


def _detect(head: Head) -> bool:
    return head.root == "TestRun" and NAMESPACE in head.root_attributes


_dotnet.register_dialect(
    DIALECT,
    name="trx",
    title="Visual Studio TRX",
    detect=_detect,
    producer="vstest",
)
