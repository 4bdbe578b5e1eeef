"""Facts from report files on disk (placeholder until the report parsers land)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gatekeeper.config import Settings
from gatekeeper.errors import UsageError
from gatekeeper.facts import Facts


def collect_report_facts(
    paths: Sequence[str], *, diff: Path | None, base: str | None, settings: Settings
) -> Facts:
    """Facts from the reports at `paths` (files, directories or globs), merged."""
    del diff, base, settings
    raise UsageError(f"report parsing is not available yet ({len(paths)} path(s) given)")
