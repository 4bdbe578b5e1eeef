"""Known report formats Gatekeeper does not read: recognised cheaply from their first bytes, so
the error says what the file is and how to get a format Gatekeeper reads."""

from __future__ import annotations

from gatekeeper.reports.registry import Head, UnreadFormat, register_unread


def _is_cucumber(head: Head) -> bool:
    body = head.body
    return body.startswith(b"[") and b'"elements"' in body and b'"keyword"' in body


register_unread(
    UnreadFormat(
        "a mocha JSON report",
        lambda head: (
            head.body.startswith(b"{") and b'"stats"' in head.body and b'"passes"' in head.body
        ),
        "convert it with mocha-junit-reporter (mocha --reporter mocha-junit-reporter) to JUnit XML",
    )
)
register_unread(
    UnreadFormat(
        "a jest JSON report",
        lambda head: head.body.startswith(b"{") and b'"numTotalTests"' in head.body,
        "write JUnit XML with jest-junit (jest --reporters=default --reporters=jest-junit)",
    )
)
register_unread(
    UnreadFormat(
        "a Cucumber JSON report",
        _is_cucumber,
        "write JUnit XML with Cucumber's junit formatter (--format junit)",
    )
)
register_unread(
    UnreadFormat(
        "an Allure result file",
        lambda head: (
            head.body.startswith(b"{") and b'"uuid"' in head.body and b'"historyId"' in head.body
        ),
        "have the test runner write JUnit XML beside its Allure results",
    )
)
register_unread(
    UnreadFormat(
        "an RSpec JSON report",
        lambda head: (
            head.body.startswith(b"{") and b'"examples"' in head.body and b'"version"' in head.body
        ),
        "write JUnit XML with rspec_junit_formatter (rspec --format RspecJunitFormatter)",
    )
)
register_unread(
    UnreadFormat(
        "a Dart test JSON report",
        lambda head: head.body.startswith(b"{") and b'"protocolVersion"' in head.body[:200],
        "convert it with junitreport (dart test --reporter json | tojunit) to JUnit XML",
    )
)
