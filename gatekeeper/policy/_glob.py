"""Path and branch globs: `*` stays within a path segment, `**` spans segments.

Patterns come from policies and waivers, values from the diff. A glob translated to a regular
expression backtracks: `*a*a*a*a*b` against a long name of `a`s takes exponential time in Python's
`re`. Here a pattern is a list of tokens matched as an automaton, all positions at once, so a match
costs at most len(pattern) x len(value) steps whatever the pattern.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

_STAR = "*"  # any run of characters within a segment
_ANY_RUN = "**"  # any run of characters, slashes included
_DIRS = "**/"  # nothing, or any run ending with a slash (whole leading folders)
_ONE = "?"  # one character other than a slash


@functools.cache
def _tokens(pattern: str) -> tuple[tuple[bool, str], ...]:
    """(is_wildcard, text) per token of `pattern`."""
    out: list[tuple[bool, str]] = []
    index = 0
    while index < len(pattern):
        for wildcard in (_DIRS, _ANY_RUN, _STAR, _ONE):
            if pattern.startswith(wildcard, index):
                out.append((True, wildcard))
                index += len(wildcard)
                break
        else:
            out.append((False, pattern[index]))
            index += 1
    return tuple(out)


def _closure(tokens: tuple[tuple[bool, str], ...], states: set[int]) -> set[int]:
    """`states` and every state reachable from them by a wildcard that matches nothing."""
    pending = list(states)
    while pending:
        state = pending.pop()
        skippable = state < len(tokens) and tokens[state][0] and tokens[state][1] != _ONE
        if skippable and state + 1 not in states:
            states.add(state + 1)
            pending.append(state + 1)
    return states


def _step(tokens: tuple[tuple[bool, str], ...], states: set[int], char: str) -> set[int]:
    after: set[int] = set()
    for state in states:
        if state == len(tokens):
            continue
        wildcard, text = tokens[state]
        if not wildcard:
            if char == text:
                after.add(state + 1)
        elif text == _ONE:
            if char != "/":
                after.add(state + 1)
        elif text == _STAR:
            if char != "/":
                after.add(state)
        else:  # `**` and `**/` consume anything; `**/` may end on a slash
            after.add(state)
            if text == _DIRS and char == "/":
                after.add(state + 1)
    return _closure(tokens, after)


def glob_match(pattern: str, value: str) -> bool:
    """Whether `value` matches glob `pattern` (a trailing `/` pattern matches a whole folder)."""
    if pattern.endswith("/"):
        pattern += "**"
    tokens = _tokens(pattern)
    states = _closure(tokens, {0})
    for char in value:
        states = _step(tokens, states, char)
        if not states:
            return False
    return len(tokens) in states


def any_match(patterns: Iterable[str], value: str) -> bool:
    """Whether any of `patterns` matches `value`."""
    return any(glob_match(pattern, value) for pattern in patterns)
