"""The parser targets: the DOCTYPE check inside the parser, text capping, identity of parents."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatekeeper.errors import ReportError
from gatekeeper.facts import MESSAGE_LIMIT
from gatekeeper.reports import parse_report
from gatekeeper.reports.cobertura import parse_cobertura

_DTD_ATTACK = (
    '<?xml version="1.0" encoding="UTF-16"?>'
    '<!DOCTYPE coverage [<!ENTITY a "aaaaaaaaaa">]><coverage><sources><source>&a;</source>'
    "</sources></coverage>"
)


def test_doctype_the_prolog_check_cannot_read_stops_the_parser(tmp_path: Path) -> None:
    """A DOCTYPE in a document the prolog check cannot decode (UTF-16 without BOM) is refused."""
    path = tmp_path / "coverage.xml"
    path.write_bytes(_DTD_ATTACK.encode("utf-16-le"))
    with pytest.raises(ReportError, match="DOCTYPE"):
        parse_cobertura(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" " * 9000 + "q  ", "q"),
        ("y" * (MESSAGE_LIMIT - 1) + "   z", "y" * (MESSAGE_LIMIT - 1) + " "),
        ("y" * (MESSAGE_LIMIT - 1) + "       ", "y" * (MESSAGE_LIMIT - 1)),
        ("head<child>inner</child>tail", "head"),
        ("  <![CDATA[a &amp; b]]> &amp; c ", "a &amp; b & c"),
    ],
    ids=["leading-space", "text-past-cap", "space-past-cap", "child", "cdata"],
)
def test_failure_text_is_stripped_then_capped(tmp_path: Path, text: str, expected: str) -> None:
    """A failure without a message gives its text before any child, stripped, then capped."""
    path = tmp_path / "junit.xml"
    path.write_text(
        f'<testsuite name="s"><testcase name="t"><failure>{text}</failure>x</testcase></testsuite>',
        encoding="utf-8",
    )
    report = parse_report(path)
    assert report.tests is not None
    assert report.tests.failures[0].message == expected


def test_reruns_match_only_in_the_same_suite(tmp_path: Path) -> None:
    """A failed record and a passing one of the same classname and name in other suites stay
    apart; under other (attribute-less) parents of the same suite they are one flaky test."""
    path = tmp_path / "junit.xml"
    path.write_text(
        '<testsuites><testsuite name="s"><x><testcase classname="c" name="t"><failure/></testcase>'
        '</x><x><testcase classname="c" name="t"/></x></testsuite>'
        '<testsuite name="r"><testcase classname="c" name="u"><failure/></testcase></testsuite>'
        '<testsuite name="q"><testcase classname="c" name="u"/></testsuite></testsuites>',
        encoding="utf-8",
    )
    report = parse_report(path)
    assert report.tests is not None
    assert (report.tests.total, report.tests.failed, report.tests.flaky) == (3, 1, 1)
