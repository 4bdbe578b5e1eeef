"""Base-aware facts: this change's measurement against the base's (the merge-base commit).

`coverage.delta` is the line rate minus the base's; `tests.new_failures` the tests failing here
that did not fail on the base; `tests.newly_skipped` the tests skipped here that the base did not
skip. `tests.removed` needs every test id of both sides, which the stored facts do not keep (only
failing and skipped ids are stored, to keep records small), so it is missing with that reason.
Without a base every one of them is missing with the reason the base could not be had: a rule
that needs one fails closed unless its `on_missing` says otherwise.
"""

from __future__ import annotations

from gatekeeper.facts import Facts, TestSummary

__all__ = ["BASE_FACTS", "REMOVED_REASON", "with_base"]

BASE_FACTS = ("coverage.delta", "tests.new_failures", "tests.removed", "tests.newly_skipped")

REMOVED_REASON = (
    "removed tests are not counted: the stored facts keep only the failing and skipped test ids"
)


def _failing_ids(tests: TestSummary) -> set[str]:
    return {f"{f.classname}::{f.name}" for f in tests.failures}


def _complete_skips(tests: TestSummary) -> bool:
    return len(tests.skipped_tests) == tests.skipped


def _compare_tests(
    head: TestSummary, base: TestSummary | None, missing: dict[str, str]
) -> dict[str, object]:
    missing["tests.removed"] = REMOVED_REASON
    if base is None:
        reason = "the base measurement has no test results"
        missing["tests.new_failures"] = missing["tests.newly_skipped"] = reason
        return {}
    update: dict[str, object] = {}
    before = _failing_ids(base)
    update["new_failures"] = tuple(sorted(_failing_ids(head) - before))
    if _complete_skips(head) and _complete_skips(base):
        update["newly_skipped"] = len(set(head.skipped_tests) - set(base.skipped_tests))
    else:
        side = "this change's" if not _complete_skips(head) else "the base's"
        missing["tests.newly_skipped"] = f"{side} test reports do not name every skipped test"
    return update


def with_base(head: Facts, base: Facts | None, reason: str) -> Facts:
    """`head` with the base-aware facts computed against `base`; with no base (`reason` says
    why) each of them is missing with that reason."""
    missing = dict(head.missing)
    update: dict[str, object] = {"missing": missing}
    if base is None:
        for name in BASE_FACTS:
            if head.missing_reason(name) is None:
                missing[name] = reason
        return head.model_copy(update=update)
    if head.coverage is not None:
        base_rate = base.coverage.line_rate if base.coverage is not None else None
        if head.coverage.line_rate is None:
            missing["coverage.delta"] = "this change's coverage reports measure no lines"
        elif base_rate is None:
            missing["coverage.delta"] = "the base measurement has no line coverage"
        else:
            delta = round(head.coverage.line_rate - base_rate, 6)
            update["coverage"] = head.coverage.model_copy(update={"delta": delta})
    if head.tests is not None:
        changes = _compare_tests(head.tests, base.tests, missing)
        if changes:
            update["tests"] = head.tests.model_copy(update=changes)
    return head.model_copy(update=update)
