"""JaCoCo XML: a line is valid when it has instructions (mi+ci > 0), covered when ci > 0;
branches are mb+cb. Report-level counters are ignored, except that a sourcefile whose lines carry
no mi/ci (gcovr's JaCoCo writer) is measured by its own LINE counter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gatekeeper.errors import ReportError
from gatekeeper.reports._xml import check_parsed, open_events, xml_errors
from gatekeeper.reports.model import CoverageResult, FileCoverage


def _int(path: Path, element: Any, name: str) -> int:
    text = element.get(name)
    if text is None:
        return 0
    try:
        return max(int(text), 0)
    except ValueError:
        raise ReportError(
            path, f"<{element.tag}> {name}={text!r}: not a number", line=element.sourceline
        ) from None


def _sourcefile(path: Path, element: Any) -> FileCoverage:
    lines: dict[int, int] = {}
    coverage = FileCoverage()
    instructions_known = False
    counter: tuple[int, int] | None = None
    for child in element:
        if child.tag == "line":
            number = _int(path, child, "nr")
            missed, covered = _int(path, child, "mi"), _int(path, child, "ci")
            instructions_known = instructions_known or child.get("mi") is not None
            if missed + covered > 0:
                lines[number] = max(lines.get(number, 0), covered)
            branches_missed, branches_covered = _int(path, child, "mb"), _int(path, child, "cb")
            if branches_missed + branches_covered > 0:
                old = coverage.branches.get(number, (0, 0))
                coverage.branches[number] = (
                    max(old[0], branches_covered),
                    max(old[1], branches_missed + branches_covered),
                )
        elif child.tag == "counter" and child.get("type") == "LINE":
            missed, covered = _int(path, child, "missed"), _int(path, child, "covered")
            counter = (missed + covered, covered)
    coverage.set_lines(lines)
    if not instructions_known and not lines and counter is not None:
        coverage.summary = counter
    return coverage


def parse_jacoco(path: Path) -> tuple[CoverageResult, bool]:
    """Per-file coverage of one JaCoCo XML report and whether it carries branch data."""
    result = CoverageResult()
    context = open_events(path, ("sourcefile", "package"))
    with xml_errors(path):
        for _, element in context:
            if element.tag == "package":
                element.clear()
                continue
            package = element.getparent()
            prefix = str(package.get("name") or "") if package is not None else ""
            name = str(element.get("name") or "")
            key = f"{prefix}/{name}" if prefix else name
            result.add(key, _sourcefile(path, element))
            element.clear()
        check_parsed(path, context)
    has_branches = any(f.branches for f in result.files.values())
    return result, has_branches
