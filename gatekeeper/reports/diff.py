"""Patch coverage: the lines a unified diff adds or changes, measured against coverage data.

Paths are compared after normalisation (POSIX separators, no ``a/``/``b/`` prefixes); a report
path matches a diff path when they are equal or one ends with ``/`` + the other (reports often
hold absolute paths or paths relative to a source root). No measurable changed line is its own
state: the rate is None and the reason is given, never a silent 100%.
"""

from __future__ import annotations

import posixpath
import re
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from gatekeeper.errors import ReportError, UsageError
from gatekeeper.reports.model import CoverageResult, FindingRecord

ChangedLines = dict[str, set[int]]


@dataclass(frozen=True, slots=True)
class PatchResult:
    """Patch coverage figures, the reason when the rate is missing, and unmatched report paths."""

    lines_valid: int
    lines_covered: int
    rate: float | None
    reason: str | None
    unmatched_paths: tuple[str, ...]
    uncovered: tuple[tuple[str, tuple[tuple[int, int], ...]], ...] = ()
    stale: bool = False
    """The reports cover changed files but measure none of their changed lines: they are most
    likely from another commit, so patch coverage is unknown (never 0 lines, never skipped)."""


def line_ranges(numbers: Iterable[int]) -> tuple[tuple[int, int], ...]:
    """Sorted line numbers as (first, last) runs: 12, 13, 14, 31 -> (12, 14), (31, 31)."""
    ranges: list[list[int]] = []
    for number in sorted(set(numbers)):
        if ranges and number == ranges[-1][1] + 1:
            ranges[-1][1] = number
        else:
            ranges.append([number, number])
    return tuple((first, last) for first, last in ranges)


def _clean(path: str) -> str:
    path = path.replace("\\", "/")
    if path.startswith(("a/", "b/")):
        path = path[2:]
    return posixpath.normpath(path).lstrip("/") if path else path


def changed_lines(diff_text: str, *, source: str = "diff") -> ChangedLines:
    """Added and changed lines (numbers in the new file) per path of a unified diff."""
    # Imported here: only --diff/--base need it, and `inspect` start-up time is benchmarked.
    from unidiff import PatchSet  # type: ignore[attr-defined]  # noqa: PLC0415
    from unidiff.errors import UnidiffParseError  # noqa: PLC0415

    changed: ChangedLines = {}
    for section in _file_sections(diff_text):
        try:
            patch = PatchSet(section)
        except UnidiffParseError as error:
            raise ReportError(source, f"not a unified diff: {error}") from None
        for patched_file in patch:
            if patched_file.is_removed_file:
                continue
            lines = {
                line.target_line_no
                for hunk in patched_file
                for line in hunk
                if line.is_added and line.target_line_no is not None
            }
            if lines:
                changed.setdefault(_clean(patched_file.path), set()).update(lines)
    return changed


_FILE_START = re.compile(r"^diff --git ", re.MULTILINE)


def _file_sections(diff_text: str) -> Iterator[str]:
    """The diff cut before each `diff --git` line, so each file's lines are parsed and freed on
    their own (unidiff keeps an object per line: a whole 26 MB diff would need ~300 MB).

    A hunk line starts with ' ', '+', '-' or a backslash, so no file's content is cut."""
    starts = [match.start() for match in _FILE_START.finditer(diff_text)]
    if len(starts) < 2:
        yield diff_text
        return
    if starts[0] > 0:
        yield diff_text[: starts[0]]
    for start, end in zip(starts, [*starts[1:], len(diff_text)], strict=True):
        yield diff_text[start:end]


DEFAULT_MAX_DIFF_BYTES = 64 * 1024 * 1024


def _over_limit(size: int, limit: int) -> str:
    return f"{size} bytes is over the diff size limit of {limit} bytes (GATEKEEPER_MAX_DIFF_BYTES)"


def read_diff(path: Path, *, max_bytes: int = DEFAULT_MAX_DIFF_BYTES) -> ChangedLines:
    """Changed lines of a unified diff file of at most `max_bytes` bytes."""
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as error:
        raise ReportError(path, f"cannot read the diff: {error.strerror or error}") from None
    if len(data) > max_bytes:
        try:
            size = path.stat().st_size
        except OSError:
            size = len(data)
        raise ReportError(path, _over_limit(max(size, len(data)), max_bytes))
    text = data.decode("utf-8", errors="replace")
    del data
    return changed_lines(text, source=str(path))


def _git(arguments: list[str], cwd: Path) -> str:
    try:
        done = subprocess.run(  # noqa: S603 - fixed git arguments, no shell
            ["git", "-c", "core.quotepath=off", *arguments],  # noqa: S607 - git from PATH
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as error:
        raise UsageError(f"--base needs git: {error}") from None
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()
        raise UsageError(f"git {arguments[0]} failed: {detail[-1] if detail else done.returncode}")
    return done.stdout


def merge_base_commit(base: str, cwd: Path) -> str:
    """The commit `git merge-base BASE HEAD` names (UsageError when git cannot tell)."""
    if base.startswith("-"):
        raise UsageError(f"--base {base!r}: a git ref cannot start with '-'")
    return _git(["merge-base", base, "HEAD"], cwd).strip()


def git_changed_lines(
    base: str, cwd: Path, *, max_bytes: int = DEFAULT_MAX_DIFF_BYTES
) -> ChangedLines:
    """Lines changed in the working tree since `git merge-base BASE HEAD` (diff bounded)."""
    merge_base = merge_base_commit(base, cwd)
    text = _git(["diff", "--no-color", "--no-ext-diff", "-U0", merge_base, "--"], cwd)
    source = f"git diff {merge_base[:12]}"
    if len(text) > max_bytes:
        raise ReportError(source, _over_limit(len(text.encode()), max_bytes))
    return changed_lines(text, source=source)


def _matches(report_path: str, diff_path: str) -> bool:
    report_path = report_path.lstrip("/")
    return (
        report_path == diff_path
        or report_path.endswith("/" + diff_path)
        or diff_path.endswith("/" + report_path)
    )


def patch_coverage(coverage: CoverageResult, changed: ChangedLines) -> PatchResult:
    """Coverage of the changed lines, and the report paths that matched no diff path."""
    valid = covered = 0
    unmatched: list[str] = []
    uncovered: dict[str, set[int]] = {}
    matched: set[str] = set()
    for key, file_coverage in coverage.files.items():
        report_path = _clean(key) if not key.startswith("/") else key
        targets = [d for d in changed if _matches(report_path, d)]
        if not targets:
            unmatched.append(key)
            continue
        matched.update(targets)
        hits = file_coverage.line_hits()
        for target in targets:
            for number in changed[target]:
                count = hits.get(number)
                if count is not None and count <= 0:
                    uncovered.setdefault(target, set()).add(number)
        for number in set().union(*(changed[d] for d in targets)):
            count = hits.get(number)
            if count is not None:
                valid += 1
                covered += count > 0
    if valid:
        return PatchResult(
            valid,
            covered,
            covered / valid,
            None,
            tuple(sorted(unmatched)),
            tuple((path, line_ranges(lines)) for path, lines in sorted(uncovered.items())),
        )
    if not changed:
        reason = "the diff adds or changes no lines"
    elif not matched:
        reason = "no path in the coverage reports matches a path in the diff"
    else:
        lines = sum(len(changed[path]) for path in matched)
        reason = (
            f"the coverage reports hold no data for any of the {lines} added or changed line(s) "
            f"of the {len(matched)} changed file(s) they measure: they are likely from another "
            "commit (regenerate coverage on this one)"
        )
    return PatchResult(0, 0, None, reason, tuple(sorted(unmatched)), stale=bool(matched))


def new_findings(findings: Iterable[FindingRecord], changed: ChangedLines) -> int:
    """How many findings are on a line the diff adds or changes (their file and start line)."""
    count = 0
    lines_of: dict[str, set[int]] = {}
    for finding in findings:
        if finding.file is None or finding.line is None:
            continue
        lines = lines_of.get(finding.file)
        if lines is None:
            path = _clean(finding.file) if not finding.file.startswith("/") else finding.file
            lines = set().union(*(v for d, v in changed.items() if _matches(path, d)))
            lines_of[finding.file] = lines
        count += finding.line in lines
    return count
