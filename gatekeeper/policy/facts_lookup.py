"""Dotted fact names to values: a value, or MISSING with the reason and the input that gives it."""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from gatekeeper.facts import SECTIONS, Facts, fact_names, provided_by


@dataclass(frozen=True, slots=True)
class Missing:
    """A fact no source gave: its name, why, and which input would provide it."""

    name: str
    reason: str

    @property
    def sentence(self) -> str:
        """One sentence naming the missing fact and the input that would provide it."""
        return f"{self.name} is missing ({self.reason}); {provided_by(self.name)} provides it"


@functools.cache
def known_fact_names() -> frozenset[str]:
    """Every fact name policies may address."""
    return frozenset(fact_names())


def suggest_fact(name: str) -> str | None:
    """The closest real fact name to `name`, if any is close."""
    matches = difflib.get_close_matches(name, sorted(known_fact_names()), n=1, cutoff=0.6)
    return matches[0] if matches else None


def unknown_fact_message(name: str) -> str:
    """The sentence for a fact name that does not exist, with the closest real one."""
    suggestion = suggest_fact(name)
    hint = f"; did you mean {suggestion}?" if suggestion else "; see policies/README.md"
    return f"unknown fact '{name}'{hint}"


def is_fact(name: str) -> bool:
    """Whether `name` is a fact name policies may address."""
    return name in known_fact_names()


def lookup(facts: Facts, name: str) -> Any:
    """The value of fact `name`, or a `Missing` saying why it is absent."""
    parts = name.split(".")
    if parts[0] not in SECTIONS:
        raise KeyError(name)
    value: Any = facts
    for depth, part in enumerate(parts):
        value = getattr(value, part) if isinstance(value, BaseModel) else None
        if value is None:
            given = facts.missing_reason(name)
            if given is None and depth < len(parts) - 1:
                given = f"no source gave {'.'.join(parts[: depth + 1])} facts"
            return Missing(name, given or "the sources gave no value for it")
    return value


FactKind = str
"""One of 'number', 'rate', 'bool', 'list', 'text', 'section'."""


@functools.cache
def fact_kind(name: str) -> FactKind:
    """What kind of value fact `name` holds; rates are numbers between 0 and 1."""
    model: Any = Facts
    annotation: Any = None
    for part in name.split("."):
        annotation = model.model_fields[part].annotation
        model = next(
            (
                arg
                for arg in (annotation, *getattr(annotation, "__args__", ()))
                if isinstance(arg, type) and issubclass(arg, BaseModel)
            ),
            None,
        )
    args = set(getattr(annotation, "__args__", ())) | {annotation}
    is_list = any(getattr(arg, "__origin__", None) is tuple for arg in args)
    if model is not None and not is_list:
        return "section"
    if is_list:
        return "list"
    if bool in args:
        return "bool"
    if name.endswith("rate"):
        return "rate"
    if args & {int, float}:
        return "number"
    return "text"
