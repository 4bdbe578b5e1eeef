"""Numeric XML attributes: one error for a value that is not a number, raised with its place."""

from __future__ import annotations

from pathlib import Path

from gatekeeper.errors import ReportError
from gatekeeper.reports._xml import locate

Attributes = dict[str, str]


class BadNumberError(Exception):
    """An attribute of `<tag>` that is not a number; becomes a ReportError naming its line once
    the parser has moved on (the streaming parser does not know the line when it reads it)."""

    def __init__(self, tag: str, name: str, text: str | None) -> None:
        super().__init__(tag, name, text)
        self.tag, self.name, self.text = tag, name, text

    def report_error(self, path: Path) -> ReportError:
        line = locate(path, self.tag, self.name, self.text)
        return ReportError(path, f"<{self.tag}> {self.name}={self.text!r}: not a number", line=line)


def count_attribute(tag: str, attributes: Attributes, name: str) -> int:
    """A non-negative count from `attributes[name]` (absent counts 0)."""
    text = attributes.get(name)
    if text is None:
        return 0
    try:
        return max(int(text), 0)
    except ValueError:
        raise BadNumberError(tag, name, text) from None
