"""Facts from report files on disk: files, directories (searched recursively) and globs."""

from __future__ import annotations

import glob
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gatekeeper.errors import ReportError, UsageError
from gatekeeper.facts import Facts
from gatekeeper.reports import (
    ChangedLines,
    detect_format,
    git_changed_lines,
    parse_report,
    read_diff,
    read_head,
    reports_to_facts,
)
from gatekeeper.reports.locate import locate_failures
from gatekeeper.reports.model import ParsedReport

if TYPE_CHECKING:
    from gatekeeper.config import Settings

_log = logging.getLogger(__name__)

_GLOB_CHARACTERS = frozenset("*?[")


@dataclass
class Inventory:
    """What a run over report arguments saw besides the facts: the files in directories that
    are not reports (path, why), and the changed files that no coverage report names (None
    without a diff or without coverage)."""

    skipped: list[tuple[Path, str]] = field(default_factory=list)
    uncovered_changes: tuple[str, ...] | None = None


def _not_a_report(path: Path) -> str | None:
    """Why a file found in a directory is not a report, or None when it is one."""
    try:
        detect_format(path, read_head(path))
    except ReportError as error:
        return error.detail
    return None


def _expand(argument: str, inventory: Inventory) -> Iterator[Path]:
    path = Path(argument)
    if path.is_dir():
        found = sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        reports = []
        skipped = 0
        for candidate in found:
            why = _not_a_report(candidate)
            if why is None:
                reports.append(candidate)
            else:
                skipped += 1
                inventory.skipped.append((candidate, why))
                _log.info("skipped %s: %s", candidate, why)
        if not reports:
            raise ReportError(path, f"the directory holds no report among {len(found)} file(s)")
        if skipped:
            _log.warning(
                "skipped %d file(s) in %s that are not reports (-v lists them)", skipped, path
            )
        yield from reports
    elif path.is_file():
        yield path
    elif _GLOB_CHARACTERS & set(argument):
        matches = sorted(glob.glob(argument, recursive=True))
        files = [Path(m) for m in matches if Path(m).is_file()]
        if not files:
            raise ReportError(argument, "the pattern matches no files")
        yield from files
    elif path.exists():
        raise ReportError(path, "not a regular file")
    else:
        raise ReportError(path, "no such file or directory")


def report_paths(paths: Sequence[str], inventory: Inventory | None = None) -> list[Path]:
    """Every file the arguments name, in a stable order, each once.

    Files named directly or matched by a glob must be reports (else ReportError); in a directory,
    files that are empty, binary or of no known format are skipped with a warning, so that a
    build output folder (Gradle's `binary/`, logs) can be given as is.
    """
    if not paths:
        raise UsageError("give at least one report file, directory or glob")
    seen: set[Path] = set()
    found: list[Path] = []
    inventory = inventory if inventory is not None else Inventory()
    for argument in paths:
        for path in _expand(argument, inventory):
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                found.append(path)
    return found


def _check_size(path: Path, limit: int) -> None:
    try:
        size = path.stat().st_size
    except OSError as error:
        raise ReportError(path, f"cannot read the file: {error.strerror or error}") from None
    if size > limit:
        raise ReportError(
            path,
            f"{size} bytes is over the report size limit of {limit} bytes "
            "(GATEKEEPER_MAX_REPORT_BYTES)",
        )


def _names(report_key: str, diff_path: str) -> bool:
    """Whether a coverage report's file key names a diff path (the suffix rule of patch
    coverage: reports often hold absolute or source-relative paths)."""
    key = report_key.lstrip("/")
    return key == diff_path or key.endswith("/" + diff_path) or diff_path.endswith("/" + key)


def _uncovered_changes(reports: Sequence[ParsedReport], changed: ChangedLines) -> tuple[str, ...]:
    keys = [key for report in reports if report.coverage for key in report.coverage.files]
    return tuple(
        sorted(
            path
            for path, lines in changed.items()
            if lines and not any(_names(k, path) for k in keys)
        )
    )


def collect_report_facts(
    paths: Sequence[str],
    *,
    diff: Path | None,
    base: str | None,
    settings: Settings,
    inventory: Inventory | None = None,
) -> Facts:
    """Facts from the reports at `paths` (files, directories or globs), merged; `inventory`
    receives what else was seen."""
    if diff is not None and base is not None:
        raise UsageError("give either --diff FILE or --base REF, not both")
    inventory = inventory if inventory is not None else Inventory()
    reports = []
    for path in report_paths(paths, inventory):
        _check_size(path, settings.max_report_bytes)
        reports.append(parse_report(path))
    changed: ChangedLines | None = None
    if diff is not None:
        changed = read_diff(diff, max_bytes=settings.max_diff_bytes)
    elif base is not None:
        changed = git_changed_lines(base, Path.cwd(), max_bytes=settings.max_diff_bytes)
    facts = reports_to_facts(reports, changed=changed, root=Path.cwd())
    if changed is not None and any(report.coverage for report in reports):
        inventory.uncovered_changes = _uncovered_changes(reports, changed)
    if facts.tests is None or not facts.tests.failures:
        return facts
    failures = locate_failures(facts.tests.failures, Path.cwd())
    return facts.model_copy(update={"tests": facts.tests.model_copy(update={"failures": failures})})
