"""Hostile and broken inputs: refused with one sentence naming the place, in bounded time."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatekeeper.errors import ReportError
from gatekeeper.reports import parse_report

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<testsuites><testsuite><testcase name="&lol9;"/></testsuite></testsuites>
"""

XXE_FILE = """<?xml version="1.0"?>
<!DOCTYPE testsuites [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<testsuites><testsuite><testcase name="x"><failure message="&xxe;"/></testcase></testsuite>
</testsuites>
"""

XXE_URL = """<?xml version="1.0"?>
<!DOCTYPE coverage [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>
<coverage><packages/></coverage>
"""

INTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE testsuites [<!ELEMENT testsuites ANY>]>
<testsuites/>
"""

EXTERNAL_DTD_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE report SYSTEM "http://127.0.0.1:9/report.dtd">
<report name="r"><package name="p"><sourcefile name="&ext;"><line nr="1" mi="0" ci="1"/>
</sourcefile></package></report>
"""


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (BILLION_LAUGHS, "entity declarations are refused"),
        (XXE_FILE, "entity declarations are refused"),
        (XXE_URL, "entity declarations are refused"),
        (INTERNAL_DTD, "internal subset is refused"),
    ],
    ids=["billion-laughs", "xxe-file", "xxe-url", "internal-dtd"],
)
def test_entity_and_dtd_attacks_are_refused(tmp_path: Path, content: str, words: str) -> None:
    """DTD internal subsets and entity declarations are refused before anything is expanded."""
    path = _write(tmp_path, "report.xml", content)
    with pytest.raises(ReportError) as caught:
        parse_report(path)
    assert words in str(caught.value)
    assert str(path) in str(caught.value)
    assert "root:" not in str(caught.value)


def test_undeclared_entity_from_an_external_dtd_is_never_fetched(tmp_path: Path) -> None:
    """An entity an external DTD would define is neither fetched nor expanded: a clear error."""
    path = _write(tmp_path, "jacoco.xml", EXTERNAL_DTD_ENTITY)
    report = parse_report(path)  # nothing listens on port 9: a fetch would fail loudly
    assert report.coverage is not None
    assert list(report.coverage.files) == ["p/"]


def test_entity_declaration_split_by_comments_is_refused(tmp_path: Path) -> None:
    """A DOCTYPE after comments and processing instructions is still inspected."""
    content = BILLION_LAUGHS.replace('<?xml version="1.0"?>', '<?xml version="1.0"?><!-- a -->')
    with pytest.raises(ReportError, match="refused"):
        parse_report(_write(tmp_path, "r.xml", content))


def test_utf16_billion_laughs_is_refused(tmp_path: Path) -> None:
    """The prolog check also reads UTF-16 documents (BOM)."""
    data = BILLION_LAUGHS.replace(
        '<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>'
    )
    path = _write(tmp_path, "r.xml", b"\xff\xfe" + data.encode("utf-16-le"))
    with pytest.raises(ReportError, match="refused"):
        parse_report(path)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (b"  \n\t\n", "only whitespace"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"hello, world\n", "unknown report format"),
        (b'{"name": "package.json"}', "unknown JSON report"),
        (b"<html><body/></html>", "unknown XML report with root element <html>"),
    ],
    ids=["empty", "whitespace", "binary", "text", "json", "html"],
)
def test_unusable_files_name_what_is_wrong(tmp_path: Path, content: bytes, words: str) -> None:
    """Empty, binary and unknown files give one sentence naming the file and the problem."""
    path = _write(tmp_path, "input", content)
    with pytest.raises(ReportError) as caught:
        parse_report(path)
    assert words in str(caught.value)
    assert str(caught.value).startswith(str(path))
    assert "\n" not in str(caught.value)


def test_truncated_junit_names_line_and_column(tmp_path: Path) -> None:
    """A JUnit file cut short is an error with the line and column where it ends."""
    content = '<?xml version="1.0"?>\n<testsuites>\n<testsuite name="s">\n<testcase name="a"'
    with pytest.raises(ReportError) as caught:
        parse_report(_write(tmp_path, "junit.xml", content))
    assert caught.value.line == 4
    assert caught.value.column is not None
    assert "invalid XML" in str(caught.value)


def test_truncated_cobertura_is_an_error(tmp_path: Path) -> None:
    """A Cobertura file cut in the middle of its lines is an error, never partial figures."""
    content = (
        "<coverage><packages><package><classes>"
        '<class filename="a.py"><lines><line number="1" hits="1"/>'
    )
    with pytest.raises(ReportError, match=r"invalid XML"):
        parse_report(_write(tmp_path, "coverage.xml", content))


def test_truncated_lcov_is_an_error(tmp_path: Path) -> None:
    """An LCOV tracefile whose last section has no end_of_record is reported as truncated."""
    path = _write(tmp_path, "lcov.info", "TN:\nSF:a.c\nDA:1,1\nDA:2,0\n")
    with pytest.raises(ReportError, match="truncated") as caught:
        parse_report(path)
    assert caught.value.line == 4


def test_truncated_coveragepy_json_names_the_place(tmp_path: Path) -> None:
    """coverage.py JSON cut short gives the line and column of the end."""
    path = _write(
        tmp_path, "coverage.json", '{"meta": {}, "files": {"a.py": {"executed_lines": [1,'
    )
    with pytest.raises(ReportError, match="invalid JSON") as caught:
        parse_report(path)
    assert caught.value.line == 1
    assert caught.value.column is not None


def test_bad_number_in_lcov_names_the_line(tmp_path: Path) -> None:
    """A DA record with a non-number is an error naming its line."""
    path = _write(tmp_path, "lcov.info", "SF:a.c\nDA:1,1\nDA:two,1\nend_of_record\n")
    with pytest.raises(ReportError, match="not a number") as caught:
        parse_report(path)
    assert caught.value.line == 3


def test_bad_go_block_names_the_line(tmp_path: Path) -> None:
    """A coverprofile line that is not a block is an error naming its line."""
    path = _write(tmp_path, "cover.out", "mode: set\na.go:1.1,2.2 1 1\ngarbage\n")
    with pytest.raises(ReportError, match="coverprofile") as caught:
        parse_report(path)
    assert caught.value.line == 3


def test_huge_single_line_report_parses_in_bounded_memory(tmp_path: Path) -> None:
    """A report on one very long line (a 12 MB failure message) parses, the message capped."""
    message = "x" * (12 * 1024 * 1024)
    content = (
        f'<testsuites><testsuite><testcase name="t"><failure message="{message}"/>'
        "</testcase></testsuite></testsuites>"
    )
    report = parse_report(_write(tmp_path, "junit.xml", content))
    assert report.tests is not None
    assert report.tests.failed == 1
    assert len(report.tests.failures[0].message) == 4096


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    """A UTF-8 byte order mark before the XML declaration is accepted."""
    content = (
        b'\xef\xbb\xbf<?xml version="1.0" encoding="utf-8"?>'
        b'<testsuite><testcase name="a"/></testsuite>'
    )
    report = parse_report(_write(tmp_path, "junit.xml", content))
    assert report.tests is not None
    assert report.tests.total == 1


def test_utf16_junit_is_accepted(tmp_path: Path) -> None:
    """A UTF-16 JUnit file with a BOM is detected and parsed."""
    text = (
        '<?xml version="1.0" encoding="UTF-16"?>'
        '<testsuites><testsuite><testcase name="a"/></testsuite></testsuites>'
    )
    report = parse_report(_write(tmp_path, "junit.xml", b"\xff\xfe" + text.encode("utf-16-le")))
    assert report.tests is not None
    assert report.tests.total == 1


def test_non_utf8_lcov_is_an_error(tmp_path: Path) -> None:
    """An LCOV file that is not UTF-8 is refused with a sentence, not a traceback."""
    path = _write(tmp_path, "lcov.info", b"SF:caf\xe9.c\nDA:1,1\nend_of_record\n")
    with pytest.raises(ReportError, match="UTF-8"):
        parse_report(path)


def test_doctype_hidden_after_a_comment_with_markup_is_refused(tmp_path: Path) -> None:
    """A comment holding something that looks like a root element does not hide the DOCTYPE."""
    content = BILLION_LAUGHS.replace('<?xml version="1.0"?>', "<!-- <testsuites> -->")
    with pytest.raises(ReportError, match="refused"):
        parse_report(_write(tmp_path, "r.xml", content))


def test_unterminated_comment_before_the_root_is_refused(tmp_path: Path) -> None:
    """A prolog comment that never ends is an error, not a reason to skip the checks."""
    with pytest.raises(ReportError, match="unterminated comment"):
        parse_report(_write(tmp_path, "r.xml", "<!-- <testsuites> <!DOCTYPE x [<!ENTITY a 'b'>]>"))


def test_absurd_numbers_are_refused_or_clamped(tmp_path: Path) -> None:
    """Line numbers beyond 2**62 are an error; huge hit counts are clamped, never a crash."""
    path = _write(tmp_path, "lcov.info", f"SF:a.c\nDA:{2**70},1\nend_of_record\n")
    with pytest.raises(ReportError, match="out of range"):
        parse_report(path)
    path = _write(tmp_path, "lcov2.info", f"SF:a.c\nDA:1,{2**70}\nend_of_record\n")
    report = parse_report(path)
    assert report.coverage is not None
    assert report.coverage.totals()[:2] == (1, 1)


@pytest.mark.parametrize(
    ("content", "title"),
    [
        ('{"stats": {"suites": 1, "tests": 1}, "tests": [], "passes": []}', "a mocha JSON report"),
        ('{"numFailedTests": 0, "numTotalTests": 3, "testResults": []}', "a jest JSON report"),
        ('[{"keyword": "Feature", "name": "x", "elements": []}]', "a Cucumber JSON report"),
        ('{"uuid": "1", "historyId": "2", "status": "passed"}', "an Allure result file"),
        ('{"version": "3.13.0", "examples": [], "summary": {}}', "an RSpec JSON report"),
        (
            '{"protocolVersion":"0.1.1","runnerVersion":"1.15.4","type":"start"}\n',
            "a Dart test JSON report",
        ),
    ],
)
def test_known_unread_formats_are_named(tmp_path: Path, content: str, title: str) -> None:
    """A known format Gatekeeper does not read is named, with what to do instead."""
    with pytest.raises(ReportError, match=f"this is {title}, which Gatekeeper does not read; "):
        parse_report(_write(tmp_path, "r.json", content))


def test_nul_byte_names_its_place(tmp_path: Path) -> None:
    """A NUL byte is reported with its line and column."""
    with pytest.raises(ReportError, match="NUL byte") as caught:
        parse_report(_write(tmp_path, "r.xml", b"<testsuite>\n  <x\x00/>"))
    assert (caught.value.line, caught.value.column) == (2, 5)


CDATA_CUT = '<testsuites><testsuite name="s"><testcase name="a"><failure><![CDATA[at a.b(C.java:1)'


@pytest.mark.parametrize(
    "content",
    [
        CDATA_CUT,
        CDATA_CUT.replace("<failure>", "<system-out>"),
        '<coverage><packages><package><classes><class filename="a.py"><lines><![CDATA[x',
        '<assemblies><assembly name="a"><test name="t" result="Fail"><failure><message><![CDATA[x',
        '<TestRun xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010"><Results>'
        '<UnitTestResult testName="a" outcome="Failed"><Output><ErrorInfo><Message><![CDATA[x',
    ],
    ids=["junit-failure", "junit-system-out", "cobertura", "xunit-net", "trx"],
)
def test_a_truncated_cdata_section_is_one_sentence(tmp_path: Path, content: str) -> None:
    """A file cut inside a CDATA section says so with its place, never libxml2's "Unregistered
    error message" nor the section's text."""
    with pytest.raises(ReportError) as caught:
        parse_report(_write(tmp_path, "r.xml", content))
    message = str(caught.value)
    assert "a CDATA section never ends (no ']]>'): the file is truncated" in message
    assert "Unregistered" not in message
    assert "C.java" not in message
    assert caught.value.line == 1
    assert caught.value.column is not None


def test_a_nul_byte_deep_in_a_file_names_its_place(tmp_path: Path) -> None:
    """A NUL byte past the first bytes is refused as an invalid character at its line, not as an
    internal error."""
    content = (
        b'<testsuite name="s">\n' + b'<testcase name="a"/>\n' * 500 + b"<x>\x00</x></testsuite>"
    )
    with pytest.raises(ReportError, match=r"invalid XML: .*0x0") as caught:
        parse_report(_write(tmp_path, "r.xml", content))
    assert caught.value.line == 502


@pytest.mark.parametrize(
    ("declaration", "line", "column"),
    [(b"", 2, 21), (b'<?xml version="1.0" encoding="UTF-8"?>\n', 3, 21)],
    ids=["undeclared", "declared-utf-8"],
)
def test_a_byte_that_is_not_utf8_names_its_place(
    tmp_path: Path, declaration: bytes, line: int, column: int
) -> None:
    """Latin-1 bytes in a file that declares (or defaults to) UTF-8 give line and column, never an
    internal error."""
    content = declaration + b'<testsuites>\n<testsuite name="caf\xe9"/></testsuites>'
    with pytest.raises(ReportError, match="a byte that is not UTF-8") as caught:
        parse_report(_write(tmp_path, "r.xml", content))
    assert (caught.value.line, caught.value.column) == (line, column)


def test_a_declared_single_byte_encoding_is_read(tmp_path: Path) -> None:
    """The same bytes under a declared ISO-8859-1 encoding are read (no error)."""
    content = b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<testsuites><testsuite name="caf\xe9">'
    content += b'<testcase name="t"/></testsuite></testsuites>'
    tests = parse_report(_write(tmp_path, "r.xml", content)).tests
    assert tests is not None
    assert tests.total == 1
