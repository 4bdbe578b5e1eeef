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
from array import array
from pathlib import Path
from typing import Any

from gatekeeper.errors import ReportError
from gatekeeper.reports._xml import check_parsed, open_events, xml_errors
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


class _ClassState:
    """Lines seen since the last class ended, split by where they sat."""

    def __init__(self) -> None:
        self.pending_numbers: array[int] = array("q")
        self.pending_hits: array[int] = array("q")
        self.pending_branches: list[tuple[int, int, int]] = []
        self.own: list[tuple[array[int], array[int], list[tuple[int, int, int]]]] = []
        self.methods: list[tuple[array[int], array[int], list[tuple[int, int, int]]]] = []

    def flush(self, into_own: bool) -> None:
        chunk = (self.pending_numbers, self.pending_hits, self.pending_branches)
        (self.own if into_own else self.methods).append(chunk)
        self.pending_numbers, self.pending_hits, self.pending_branches = array("q"), array("q"), []

    def take(self) -> FileCoverage:
        chunks = self.own
        if not chunks:
            self.flush(into_own=False)  # direct <line> children of the class
            chunks = self.methods
        lines: dict[int, int] = {}
        coverage = FileCoverage()
        for numbers, hits, branches in chunks:
            for number, count in zip(numbers, hits, strict=True):
                old = lines.get(number)
                lines[number] = count if old is None or count > old else old
            for number, covered, valid in branches:
                old_branch = coverage.branches.get(number, (0, 0))
                coverage.branches[number] = (max(old_branch[0], covered), max(old_branch[1], valid))
        coverage.set_lines(lines)
        self.__init__()  # type: ignore[misc]
        return coverage


def _branch(line: Any) -> tuple[int, int] | None:
    flag = line.get("branch")
    if flag is None or flag.lower() != "true":
        return None
    found = _CONDITION.search(line.get("condition-coverage") or "")
    if found is None:
        return None
    return int(found.group(1)), int(found.group(2))


def parse_cobertura(path: Path) -> tuple[CoverageResult, bool]:
    """Per-file coverage of one Cobertura file and whether it carries branch data."""
    result = CoverageResult()
    sources: list[str] = []
    classes: list[tuple[str, FileCoverage]] = []
    state = _ClassState()
    has_branches = False
    context = open_events(path, ("line", "lines", "class", "source"))
    with xml_errors(path):
        for _, element in context:
            tag = element.tag
            if tag == "line":
                state.pending_numbers.append(_number(path, element, "number"))
                hits = _number(path, element, "hits")
                state.pending_hits.append(hits if hits > 0 else 0)
                if element.get("branch") is not None:
                    branch = _branch(element)
                    if branch is not None:
                        has_branches = True
                        state.pending_branches.append((state.pending_numbers[-1], *branch))
            elif tag == "lines":
                parent = element.getparent()
                state.flush(into_own=parent is not None and parent.tag == "class")
                element.clear()
            elif tag == "class":
                classes.append((str(element.get("filename") or ""), state.take()))
                element.clear()
                parent = element.getparent()
                if parent is not None:
                    del parent[:-1]
            else:
                sources.append((element.text or "").strip())
        check_parsed(path, context)
    for filename, coverage in classes:
        result.add(normalise_path(filename, sources), coverage)
    return result, has_branches
