"""Path and branch globs: `*` stays within a path segment, `**` spans segments."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable


@functools.cache
def _compile(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
        elif pattern.startswith("**", index):
            out.append(".*")
            index += 2
        elif pattern[index] == "*":
            out.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            out.append("[^/]")
            index += 1
        else:
            out.append(re.escape(pattern[index]))
            index += 1
    return re.compile("".join(out) + r"\Z")


def glob_match(pattern: str, value: str) -> bool:
    """Whether `value` matches glob `pattern` (a trailing `/` pattern matches a whole folder)."""
    if pattern.endswith("/"):
        pattern += "**"
    return _compile(pattern).match(value) is not None


def any_match(patterns: Iterable[str], value: str) -> bool:
    """Whether any of `patterns` matches `value`."""
    return any(glob_match(pattern, value) for pattern in patterns)
