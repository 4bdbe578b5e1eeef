"""Where a failed test lives when the report does not say: pytest's default xunit2 output.

pytest writes `file` and `line` only with `junit_family=xunit1`; its default (xunit2) gives just
`classname="tests.test_shop.TestCart"` and `name="test_total[2]"`. The classname's dotted prefix
is looked up as a module file in the repository tree (`tests/test_shop.py`, also under `src/`),
and the line is that of `def test_total` in it; without both, the failure keeps no place (no line
annotation is made). Only identifier-like names are tried, so a report cannot walk out of the tree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from gatekeeper.facts import TestFailure

__all__ = ["locate_failures"]

MAX_SOURCE_BYTES = 2 * 1024 * 1024
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PREFIXES = ("", "src/")


def _module_file(parts: Sequence[str], root: Path) -> str | None:
    for depth in range(len(parts), 0, -1):
        for prefix in _PREFIXES:
            relative = prefix + "/".join(parts[:depth]) + ".py"
            if (root / relative).is_file():
                return relative
    return None


def _def_line(path: Path, name: str) -> int | None:
    try:
        if path.stat().st_size > MAX_SOURCE_BYTES:
            return None
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    pattern = re.compile(rf"^[ \t]*(?:async[ \t]+)?def[ \t]+{re.escape(name)}[ \t]*\(", re.M)
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def locate_failures(failures: Sequence[TestFailure], root: Path) -> tuple[TestFailure, ...]:
    """`failures`, those without a file given the test's file and `def` line under `root`."""
    located: list[TestFailure] = []
    cache: dict[str, str | None] = {}
    for failure in failures:
        parts = failure.classname.split(".")
        name = failure.name.split("[", 1)[0]
        if failure.file or not _IDENT.match(name) or not all(map(_IDENT.match, parts)):
            located.append(failure)
            continue
        if failure.classname not in cache:
            cache[failure.classname] = _module_file(parts, root)
        found = cache[failure.classname]
        line = _def_line(root / found, name) if found is not None else None
        if found is None or line is None:
            located.append(failure)
        else:
            located.append(failure.model_copy(update={"file": found, "line": line}))
    return tuple(located)
