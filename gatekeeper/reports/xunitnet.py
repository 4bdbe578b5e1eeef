"""xUnit.net XML: v2's `<assemblies>` and v1's `<assembly>` root, one outcome per `<test>`.

- `result="Pass"` -> passed; `Fail` -> failed; `Skip` and `NotRun` (v2 explicit tests) -> skipped;
  a `<test>` without a known result is failed when it has a `<failure>`, else passed.
- Each `<error>` under an assembly's `<errors>` (a fixture or collection cleanup that threw, a
  catastrophic failure) is one errored test named after its `name` (else `type`).
- Theories (`Is_Even(i: 2)`, `Is_Even(i: 3)`) are separate `<test>` elements and count once each.

Duration is the sum of the tests' `time` in seconds. A failure's message is its
`<failure><message>` text. The test id is `type::name` (`name` is the display name), so a test
failed in one xUnit.net file and passed in another is passed and flaky.
"""

from __future__ import annotations

from gatekeeper.reports import _dotnet
from gatekeeper.reports._dotnet import Attributes, Dialect, Test

_RESULTS = {"pass": "passed", "fail": "failed", "skip": "skipped", "notrun": "skipped"}


def _outcome(test: Test) -> str:
    result = test.attrib.get("result")
    if result == "Pass":
        return "passed"
    found = _RESULTS.get(str(result or "").lower())
    if found is not None:
        return found
    return "failed" if "failure" in test.children else "passed"


def _seconds(attrib: Attributes) -> float:
    return _dotnet.float_seconds(attrib.get("time"))


def _ids(attrib: Attributes, suite: str) -> tuple[str, str, str]:
    return suite, str(attrib.get("type") or ""), str(attrib.get("name") or "")


DIALECT = Dialect(
    test_tags=frozenset({"test"}),
    outcome=_outcome,
    seconds=_seconds,
    ids=_ids,
    message_tags=frozenset({"message"}),
    suite_tags=frozenset({"collection", "class"}),
    error_tags=frozenset({"error"}),
)


_dotnet.register_dialect(
    DIALECT,
    name="xunit-net",
    title="xUnit.net XML",
    detect=lambda head: (
        head.root == "assemblies" or (head.root == "assembly" and b"name=" in head.root_attributes)
    ),
    producer="xunit.net",
)
