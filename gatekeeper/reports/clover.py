"""Clover XML: statement lines (``type="stmt"``) with ``count > 0`` are covered; each conditional
line (``type="cond"``) is two branches, covered by ``truecount > 0`` and ``falsecount > 0``.
Method lines are ignored; the <metrics> totals are never read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gatekeeper.errors import ReportError
from gatekeeper.reports._xml import check_parsed, drop_previous, open_events, xml_errors
from gatekeeper.reports.model import CoverageResult, FileCoverage


def _int(path: Path, element: Any, name: str) -> int:
    text = element.get(name)
    if text is None:
        return 0
    try:
        return max(int(text), 0)
    except ValueError:
        raise ReportError(
            path, f"<line> {name}={text!r}: not a number", line=element.sourceline
        ) from None


def _file(path: Path, element: Any) -> FileCoverage:
    lines: dict[int, int] = {}
    coverage = FileCoverage()
    for child in element.iterchildren("line"):
        kind = child.get("type")
        number = _int(path, child, "num")
        if kind == "stmt":
            lines[number] = max(lines.get(number, 0), _int(path, child, "count"))
        elif kind == "cond":
            covered = (_int(path, child, "truecount") > 0) + (_int(path, child, "falsecount") > 0)
            old = coverage.branches.get(number, (0, 0))
            coverage.branches[number] = (max(old[0], covered), 2)
    coverage.set_lines(lines)
    return coverage


def parse_clover(path: Path) -> tuple[CoverageResult, bool]:
    """Per-file coverage of one Clover XML report and whether it carries branch data."""
    result = CoverageResult()
    context = open_events(path, ("file",))
    with xml_errors(path):
        for _, element in context:
            key = str(element.get("path") or element.get("name") or "").replace("\\", "/")
            result.add(key, _file(path, element))
            drop_previous(element)
            element.clear()
        check_parsed(path, context)
    return result, any(f.branches for f in result.files.values())
