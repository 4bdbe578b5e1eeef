"""LCOV tracefiles: DA and BRDA records per SF section; LF/LH/BRF/BRH totals are ignored.

A line (or a branch) listed twice for the same file counts once with its highest hits, as
geninfo's own merge does; ``-`` in BRDA means the branch was never reached (not taken). A DA
record of line 0 (gcovr's `--merge-mode-functions=merge-use-line-0`) is not a line, as gcovr's
own LF says.
"""

from __future__ import annotations

import re
from pathlib import Path

from gatekeeper.errors import ReportError
from gatekeeper.reports.model import CoverageResult, FileCoverage, ParsedReport
from gatekeeper.reports.registry import Head, ReportFormat, register


class _Section:
    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: dict[int, int] = {}
        self.branches: dict[tuple[int, str, str], int] = {}

    def coverage(self) -> FileCoverage:
        coverage = FileCoverage(self.lines)
        for (line, _, _), taken in self.branches.items():
            covered, valid = coverage.branches.get(line, (0, 0))
            coverage.branches[line] = (covered + (taken > 0), valid + 1)
        return coverage


def _int(path: Path, number: int, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        try:
            return int(float(text))
        except ValueError:
            raise ReportError(path, f"not a number: {text!r}", line=number) from None


def _record(path: Path, number: int, section: _Section | None, tag: str, value: str) -> None:
    if section is None:
        raise ReportError(path, f"{tag} record before any SF record", line=number)
    if tag == "DA":
        fields = value.split(",")
        if len(fields) < 2:
            raise ReportError(path, "DA needs a line number and hits", line=number)
        line, hits = _int(path, number, fields[0]), max(_int(path, number, fields[1]), 0)
        if line:  # gcovr's DA:0 (functions merged to line 0) is no source line
            section.lines[line] = max(section.lines.get(line, 0), hits)
    else:
        fields = value.split(",")
        if len(fields) < 4:
            raise ReportError(path, "BRDA needs line, block, branch and taken", line=number)
        line = _int(path, number, fields[0])
        taken = 0 if fields[3].strip() == "-" else max(_int(path, number, fields[3]), 0)
        key = (line, fields[1], fields[2])
        section.branches[key] = max(section.branches.get(key, 0), taken)


def parse_lcov(path: Path) -> tuple[CoverageResult, bool]:
    """Per-file coverage of one LCOV tracefile and whether it carries branch data."""
    result = CoverageResult()
    section: _Section | None = None
    has_branches = False
    try:
        handle = path.open(encoding="utf-8-sig", errors="strict")
    except OSError as error:
        raise ReportError(path, f"cannot read the file: {error.strerror}") from None
    with handle:
        try:
            for number, raw in enumerate(handle, start=1):
                line = raw.strip()
                tag, _, value = line.partition(":")
                if tag == "SF":
                    section = _Section(value.strip())
                elif tag in ("DA", "BRDA"):
                    has_branches = has_branches or tag == "BRDA"
                    _record(path, number, section, tag, value)
                elif line == "end_of_record":
                    if section is not None:
                        result.add(section.source.replace("\\", "/"), section.coverage())
                    section = None
        except UnicodeDecodeError as error:
            raise ReportError(path, f"not UTF-8 text: {error.reason}") from None
    if section is not None:
        raise ReportError(path, "truncated: the last SF section has no end_of_record", line=number)
    return result, has_branches


_LCOV_LINE = re.compile(rb"^(?:TN|SF|DA|FN|FNDA|FNF|FNH|BRDA|BRF|BRH|LF|LH|VER|FNL|FNA):", re.M)


def _is_lcov(head: Head) -> bool:
    """An LCOV tracefile: a record line (`SF:`, `DA:`, ...) near the start, not markup or JSON."""
    body = head.body
    return (
        not head.is_xml
        and not body.startswith((b"{", b"["))
        and (_LCOV_LINE.search(body[:4096]) is not None)
    )


def _read(path: Path, report: ParsedReport) -> None:
    report.coverage, report.has_branches = parse_lcov(path)


register(
    ReportFormat(
        name="lcov",
        kind="coverage",
        title="LCOV",
        detect=_is_lcov,
        parse=_read,
        priority=200,
    )
)
