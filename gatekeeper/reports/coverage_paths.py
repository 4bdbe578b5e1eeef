"""Coverage file keys as repository paths, so that two reports of one file use one key.

Reports name files differently: coverage.py's Cobertura joins `pkg/mod.py` to its <source>
`/home/runner/work/app/app`, its JSON says `pkg/mod.py`, LCOV may hold any absolute path. An
absolute key under the repository root becomes relative to it; another absolute key becomes the
longest relative path it ends with among the other reports' keys and the diff's paths (the anchors);
a key that matches neither stays as it is. Relative keys are only cleaned (POSIX separators, `./`).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable

_DRIVE = re.compile(r"^[A-Za-z]:/")


def _clean(key: str) -> str:
    return posixpath.normpath(key.replace("\\", "/"))


def is_absolute(path: str) -> bool:
    """Whether a report path is absolute (POSIX or a Windows drive)."""
    return path.startswith("/") or _DRIVE.match(path) is not None


def repository_paths(
    keys: Iterable[str], *, root: str | None, anchors: Iterable[str] = ()
) -> dict[str, str]:
    """Each key mapped to its repository-relative path where one can be told (see module doc)."""
    cleaned = {key: _clean(key) for key in keys}
    by_name: dict[str, set[str]] = {}
    for anchor in [*(c for c in cleaned.values() if not is_absolute(c)), *map(_clean, anchors)]:
        if not is_absolute(anchor) and not anchor.startswith("../"):
            by_name.setdefault(posixpath.basename(anchor), set()).add(anchor)
    base = _clean(root).rstrip("/") if root else ""
    prefix = base + "/" if base else None  # the root "/" tells nothing
    mapped: dict[str, str] = {}
    for key, clean in cleaned.items():
        if not is_absolute(clean):
            mapped[key] = clean
        elif prefix is not None and clean.startswith(prefix):
            mapped[key] = clean[len(prefix) :]
        else:
            ends = [
                a for a in by_name.get(posixpath.basename(clean), ()) if clean.endswith("/" + a)
            ]
            mapped[key] = max(ends, key=len) if ends else clean
    return mapped
