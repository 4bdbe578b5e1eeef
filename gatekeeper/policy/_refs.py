"""Which facts an expression or a Rego module reads, found in its text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gatekeeper.facts import SECTIONS
from gatekeeper.policy.facts_lookup import is_fact

_STRINGS = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|`[^`]*`')
_COMMENT = re.compile(r"#[^\n]*")
_CEL_CHAIN = re.compile(r"(?<![\w.])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(\s*\()?")
_INPUT_CHAIN = re.compile(r"(?<![\w.])input\.([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)")


@dataclass(frozen=True)
class Reference:
    """A fact name found at `offset` in the text; `known` is False for names that do not exist."""

    name: str
    offset: int
    known: bool


def _blank(pattern: re.Pattern[str], text: str) -> str:
    return pattern.sub(lambda match: " " * len(match.group(0)), text)


def _resolve(parts: list[str], offset: int, *, method_call: bool) -> Reference:
    for depth in range(len(parts), 0, -1):
        name = ".".join(parts[:depth])
        if is_fact(name):
            rest = parts[depth:]
            if not rest or (method_call and len(rest) == 1):
                return Reference(name, offset, known=True)
            return Reference(".".join(parts[: depth + 1]), offset, known=False)
    return Reference(".".join(parts), offset, known=False)


def cel_references(expression: str) -> list[Reference]:
    """Fact names a CEL expression reads (chains starting with a section name)."""
    text = _blank(_STRINGS, expression)
    found: list[Reference] = []
    for match in _CEL_CHAIN.finditer(text):
        parts = match.group(1).split(".")
        if parts[0] in SECTIONS:
            found.append(_resolve(parts, match.start(1), method_call=bool(match.group(2))))
    return found


def rego_references(source: str) -> list[Reference]:
    """Fact names a Rego module reads as `input.<fact>`."""
    text = _blank(_COMMENT, _blank(_STRINGS, source))
    return [
        _resolve(match.group(1).split("."), match.start(1), method_call=False)
        for match in _INPUT_CHAIN.finditer(text)
    ]


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of `offset` in `text`."""
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1
