"""Go coverprofiles (``go test -coverprofile``): the unit is the statement, not the line, as
``go tool cover -func`` counts. Blocks repeated in one profile (several packages' runs appended)
are merged by position: counts summed in ``count``/``atomic`` mode, the maximum in ``set`` mode.
"""

from __future__ import annotations

import re
from pathlib import Path

from gatekeeper.errors import ReportError
from gatekeeper.reports.model import CoverageResult, FileCoverage, ParsedReport
from gatekeeper.reports.registry import Head, ReportFormat, register

_BLOCK = re.compile(r"^(.+):(\d+)\.(\d+),(\d+)\.(\d+) (\d+) (\d+)$")
_MODE = re.compile(r"^mode:\s*(set|count|atomic)$")


def parse_gocover(path: Path) -> tuple[CoverageResult, bool]:
    """Per-file statement blocks of one Go coverprofile (no branch data)."""
    result = CoverageResult()
    mode = ""
    try:
        handle = path.open(encoding="utf-8-sig")
    except OSError as error:
        raise ReportError(path, f"cannot read the file: {error.strerror}") from None
    with handle:
        try:
            for number, raw in enumerate(handle, start=1):
                line = raw.strip()
                if not line:
                    continue
                header = _MODE.match(line)
                if header is not None:
                    mode = header.group(1)
                    continue
                block = _BLOCK.match(line)
                if block is None or not mode:
                    raise ReportError(path, "not a coverprofile block line", line=number)
                _add_block(result, block, summing=mode != "set")
        except UnicodeDecodeError as error:
            raise ReportError(path, f"not UTF-8 text: {error.reason}") from None
    return result, False


def _add_block(result: CoverageResult, block: re.Match[str], *, summing: bool) -> None:
    name = block.group(1)
    position = (int(block.group(2)), int(block.group(3)), int(block.group(4)), int(block.group(5)))
    statements, count = int(block.group(6)), int(block.group(7))
    coverage = result.files.get(name)
    if coverage is None:
        coverage = result.files[name] = FileCoverage()
    known = coverage.blocks.get(position)
    if known is None:
        coverage.blocks[position] = [statements, count]
    else:
        known[1] = known[1] + count if summing else max(known[1], count)


_GO_MODE = re.compile(rb"\Amode:\s*(set|count|atomic)\s*$", re.M)


def _is_coverprofile(head: Head) -> bool:
    """A Go coverprofile starts with its `mode:` line."""
    return _GO_MODE.match(head.body) is not None


def _read(path: Path, report: ParsedReport) -> None:
    report.coverage, report.has_branches = parse_gocover(path)


register(
    ReportFormat(
        name="go-coverprofile",
        kind="coverage",
        title="Go coverprofile",
        detect=_is_coverprofile,
        parse=_read,
        producer="go test",
    )
)
