"""YAML documents with the line and column of every node, so errors say file:line:col."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from gatekeeper.errors import PolicyError
from gatekeeper.policy.problems import raise_problems

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Mark:
    """Where a node starts (1-based) and its scalar style (None, '"', "'", '|', '>')."""

    line: int
    column: int
    style: str | None = None
    multiline: bool = False


@dataclass
class Positions:
    """Marks of every value and mapping key, by path from the document root."""

    values: dict[Loc, Mark] = field(default_factory=dict)
    keys: dict[Loc, Mark] = field(default_factory=dict)

    def of(self, loc: Loc, *, key: bool = False) -> Mark | None:
        """The mark of the node at `loc` or, if absent, of its nearest recorded parent."""
        table = self.keys if key else self.values
        for depth in range(len(loc), -1, -1):
            mark = table.get(loc[:depth]) or self.values.get(loc[:depth])
            if mark is not None:
                return mark
        return None


_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's loader when PyYAML has it (several times faster), else the pure Python one."""


def _mark(node: yaml.Node) -> Mark:
    style = node.style if isinstance(node, yaml.ScalarNode) else None
    multiline = node.end_mark.line > node.start_mark.line
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1, style or None, multiline)


MAX_NODES = 100_000
MAX_DEPTH = 64


def _walk(node: yaml.Node, loc: Loc, positions: Positions, source: str) -> None:
    """Record every node's mark; aliases count as often as they expand (no billion laughs)."""
    mark = _mark(node)
    if len(positions.values) >= MAX_NODES or len(loc) > MAX_DEPTH:
        problem = "too many nodes" if len(loc) <= MAX_DEPTH else "nesting too deep"
        raise PolicyError(
            source, f"{problem} (YAML aliases expand too far?)", line=mark.line, column=mark.column
        )
    positions.values[loc] = mark
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                mark = _mark(key_node)
                raise PolicyError(
                    source, f"duplicate key '{key}'", line=mark.line, column=mark.column
                )
            seen.add(key)
            positions.keys[(*loc, key)] = _mark(key_node)
            _walk(value_node, (*loc, key), positions, source)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*loc, index), positions, source)


def read_yaml(source: str, text: str) -> tuple[Any, Positions]:
    """Parse `text` (named `source` in errors) into plain data and the positions of its nodes."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise PolicyError(source, "the policy file is empty", line=1, column=1)
        positions = Positions()
        _walk(node, (), positions, source)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        raise _syntax_error(source, error) from error
    except yaml.YAMLError as error:
        raise PolicyError(source, f"YAML error: {error}") from error
    finally:
        loader.dispose()
    return data, positions


_UNCLOSED = {
    "while parsing a flow sequence": "this [ is never closed",
    "while parsing a flow mapping": "this { is never closed",
    "while scanning a quoted scalar": "this quoted string is never closed",
}


def _syntax_error(source: str, error: yaml.MarkedYAMLError) -> PolicyError:
    """A YAML syntax error at the start of the construct left open (a `[`, `{` or quote), where
    the fix is, rather than where the parser gave up (often the next key or the file's end)."""
    problem = error.problem or error.context or "invalid YAML"
    opened = _UNCLOSED.get(error.context or "")
    mark = error.problem_mark or error.context_mark
    if opened is not None and error.context_mark is not None and error.problem_mark is not None:
        gave_up = error.problem_mark
        problem = f"{opened} ({problem} at {gave_up.line + 1}:{gave_up.column + 1})"
        mark = error.context_mark
    line = mark.line + 1 if mark else None
    column = mark.column + 1 if mark else None
    return PolicyError(source, f"YAML error: {problem}", line=line, column=column)


def validate(model: type[M], data: Any, source: str, positions: Positions) -> M:
    """`model` validated from `data`; every problem becomes a PolicyError at its node, raised
    together (PolicyProblems) when there are several."""
    if not isinstance(data, dict):
        raise PolicyError(source, "a policy file must be a mapping of keys", line=1, column=1)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        items = error.errors()
        problems = [
            _problem(model, item, source, positions)
            for item in items
            if not _consequence(item, items)
        ]
        raise_problems(problems)
        raise  # pragma: no cover - a ValidationError has at least one error


def _consequence(item: Any, items: list[Any]) -> bool:
    """A list too short only because one of its items was refused: that item is the problem."""
    loc = tuple(item["loc"])
    return item["type"] == "too_short" and any(
        len(other["loc"]) > len(loc) and tuple(other["loc"][: len(loc)]) == loc for other in items
    )


def _problem(model: type[BaseModel], item: Any, source: str, positions: Positions) -> PolicyError:
    loc: Loc = tuple(item["loc"])
    extra = item["type"] == "extra_forbidden"
    mark = positions.of(loc, key=extra)
    if extra:
        message = _unknown_field(model, loc)
    elif loc[-1:] == ("clause",) and isinstance(item.get("input"), int | float):
        message = (
            f"{_dotted(loc)}: YAML read {item['input']} as a number; "
            f'quote it: clause: "{item["input"]}"'
        )
    else:
        message = f"{_dotted(loc)}: {item['msg'].removeprefix('Value error, ')}"
    return PolicyError(
        source,
        message,
        line=mark.line if mark else None,
        column=mark.column if mark else None,
    )


def _dotted(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "policy"


def _unknown_field(model: type[BaseModel], loc: Loc) -> str:
    """'unknown field X' with the closest allowed field of the model it sits in."""
    current: type[BaseModel] = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        annotation = current.model_fields[str(part)].annotation
        for candidate in (annotation, *getattr(annotation, "__args__", ())):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                current = candidate
                break
    allowed = sorted(current.model_fields)
    name = str(loc[-1])
    close = difflib.get_close_matches(name, allowed, n=1)
    hint = f"; did you mean {close[0]}?" if close else f"; allowed: {', '.join(allowed)}"
    return f"unknown field '{name}' in {_dotted(loc[:-1])}{hint}"
