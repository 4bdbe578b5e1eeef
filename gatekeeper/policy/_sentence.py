"""Simple CEL conditions as sentences, so a rule without `title` reads in the policy's words.

`coverage.line_rate >= 0.8` reads "line coverage at least 80.0%", `tests.failed + tests.errors
== 0` "failed tests plus tests in error exactly 0", `size(tests.new_failures) == 0` "new
failures against the base: none"; clauses joined by `&&` are joined by "and". Anything else is
None, and the caller shows the raw CEL.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from gatekeeper.policy.facts_lookup import fact_kind, is_fact

__all__ = ["expr_sentence"]

_NAME = r"[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+"
_COMPARISON = re.compile(
    rf"^(?P<left>{_NAME}(?:\s*\+\s*{_NAME})*)\s*(?P<op><=|>=|==|!=|<|>)\s*"
    r"(?P<number>-?\d+(?:\.\d+)?)$"
)
_EMPTY = re.compile(rf"^size\((?P<name>{_NAME})\)\s*==\s*0$")
_TRUE = re.compile(rf"^(?P<name>{_NAME})(?:\s*==\s*true)?$")


def _clause(
    text: str,
    label: Callable[[str], str],
    op_words: Callable[[str], str],
    display: Callable[[str | None, object], str],
) -> str | None:
    if match := _COMPARISON.match(text):
        names = [n.strip() for n in match["left"].split("+")]
        if not all(is_fact(n) for n in names):
            return None
        number = float(match["number"]) if "." in match["number"] else int(match["number"])
        shown = display(names[0] if len(names) == 1 else None, number)
        return f"{' plus '.join(label(n) for n in names)} {op_words(match['op'])} {shown}"
    if match := _EMPTY.match(text):
        name = match["name"]
        return f"{label(name)}: none" if is_fact(name) and fact_kind(name) == "list" else None
    if (match := _TRUE.match(text)) and is_fact(match["name"]):
        return f"{label(match['name'])}" if fact_kind(match["name"]) == "bool" else None
    return None


def expr_sentence(
    expr: str,
    label: Callable[[str], str],
    op_words: Callable[[str], str],
    display: Callable[[str | None, object], str],
) -> str | None:
    """The condition in words, or None when it is not a plain comparison of facts."""
    clauses = [" ".join(part.split()) for part in expr.split("&&")]
    words = [_clause(c, label, op_words, display) for c in clauses]
    if not words or any(w is None for w in words):
        return None
    sentence = " and ".join(w for w in words if w)
    return sentence[:1].upper() + sentence[1:]
