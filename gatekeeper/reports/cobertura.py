"""Cobertura XML: per-line hits from each class's <lines>, never the root's declared rates.

A class's own <lines> are used; a class without them (Swift) falls back to the lines under its
methods, or <line> elements sitting directly under the class (istanbul). A line listed twice in
one report (gcovr's constructor variants) counts once with its highest hits. Branches come from
``condition-coverage="50% (1/2)"`` on lines marked ``branch="true"`` (any case).
Paths are normalised against the <source> roots (see `normalise_path`).
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any, cast

from lxml import etree

from gatekeeper.errors import ReportError
from gatekeeper.reports._xml import check_parsed, drop_previous, open_events, xml_errors
from gatekeeper.reports.model import CoverageResult, FileCoverage

_CONDITION = re.compile(r"\((\d+)\s*/\s*(\d+)\)")


def _number(path: Path, element: Any, name: str) -> int:
    text = element.get(name)
    try:
        return int(text)
    except (TypeError, ValueError):
        pass
    try:
        return int(float(text))
    except (TypeError, ValueError):
        line = element.sourceline
        raise ReportError(path, f"<line> with {name}={text!r}: not a number", line=line) from None


def normalise_path(filename: str, sources: list[str]) -> str:
    """A class filename made comparable across reports: joined to its <source> root, POSIX form.

    With one root the filename is joined to it; with several, the first root under which the
    file exists on disk (else the filename alone).
    """
    name = filename.replace("\\", "/")
    roots = [s.replace("\\", "/").rstrip("/") for s in sources if s and s.strip() != "."]
    if name.startswith("/") or not roots:
        return posixpath.normpath(name)
    if len(roots) == 1:
        return posixpath.normpath(posixpath.join(roots[0].strip(), name))
    for root in roots:
        candidate = posixpath.join(root.strip(), name)
        if Path(candidate).exists():
            return posixpath.normpath(candidate)
    return posixpath.normpath(name)


_NUMBERS = etree.XPath("line/@number", smart_strings=False)
_HITS = etree.XPath("line/@hits", smart_strings=False)
_BRANCH_LINES = etree.XPath("line[@branch]")
_ANY_BRANCH = etree.XPath("boolean(line/@branch)")  # a cheap pre-check: no predicate
_METHOD_LINES = etree.XPath("methods/method/lines | .")


def _select(xpath: etree.XPath, element: Any) -> list[Any]:
    return cast(list[Any], xpath(element))


def _slow_lines(path: Path, lines_element: Any, lines: dict[int, int]) -> None:
    """Per-element reading, used when the fast path finds something odd (and to name it)."""
    for line in lines_element.iterchildren("line"):
        number = _number(path, line, "number")
        hits = max(_number(path, line, "hits"), 0)
        lines[number] = max(lines.get(number, 0), hits)


def _read_lines(
    path: Path, lines_element: Any, coverage: FileCoverage, lines: dict[int, int]
) -> bool:
    """Add the <line> children of `lines_element` to `lines` (max hits); True if any branch."""
    numbers, hits = _select(_NUMBERS, lines_element), _select(_HITS, lines_element)
    try:
        if len(numbers) != len(hits):
            raise ValueError
        pairs = dict(zip(map(int, numbers), map(int, hits), strict=True))
    except ValueError:
        _slow_lines(path, lines_element, lines)
    else:
        if len(pairs) == len(numbers) and not lines and min(pairs.values(), default=0) >= 0:
            lines.update(pairs)
        else:
            _slow_lines(path, lines_element, lines)
    has_branches = False
    if not _ANY_BRANCH(lines_element):
        return has_branches
    for line in _select(_BRANCH_LINES, lines_element):
        branch = _branch(line)
        if branch is not None:
            has_branches = True
            number = _number(path, line, "number")
            old = coverage.branches.get(number, (0, 0))
            coverage.branches[number] = (max(old[0], branch[0]), max(old[1], branch[1]))
    return has_branches


def _class_coverage(path: Path, element: Any) -> tuple[FileCoverage, bool]:
    """The lines of one <class>: its own <lines>, else its methods' lines and direct <line>s."""
    coverage = FileCoverage()
    lines: dict[int, int] = {}
    has_branches = False
    own = element.find("lines")
    for lines_element in [own] if own is not None else _select(_METHOD_LINES, element):
        has_branches = _read_lines(path, lines_element, coverage, lines) or has_branches
    coverage.set_lines(lines)
    return coverage, has_branches


def _branch(line: Any) -> tuple[int, int] | None:
    flag = line.get("branch")
    if flag is None or flag.lower() != "true":
        return None
    found = _CONDITION.search(line.get("condition-coverage") or "")
    if found is None:
        return None
    return int(found.group(1)), int(found.group(2))


def parse_cobertura(path: Path) -> tuple[CoverageResult, bool]:
    """Per-file coverage of one Cobertura file and whether it carries branch data.

    Lines are read per <class> with compiled XPath (C speed); memory holds one class at a time.
    """
    result = CoverageResult()
    sources: list[str] = []
    has_branches = False
    context = open_events(path, ("class", "source"))
    with xml_errors(path):
        for _, element in context:
            if element.tag == "source":
                sources.append((element.text or "").strip())
                continue
            coverage, branches = _class_coverage(path, element)
            has_branches = has_branches or branches
            filename = str(element.get("filename") or "")
            result.add(normalise_path(filename, sources), coverage)
            drop_previous(element)
            element.clear()
        check_parsed(path, context)
    return result, has_branches
