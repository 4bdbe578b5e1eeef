"""Rego rules: the only module that imports `regopy`.

A module's `deny` set (in its own package) holds the failure messages; the facts are `input`.
Modules compile when the policy loads; a module that does not compile is a PolicyError there.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regopy

_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][\w.]*)", re.MULTILINE)
_ERROR = re.compile(r"\(error \d+:(?P<file>[^|]*)\|(?P<offset>\d+)\|\d+")
_MESSAGE = re.compile(r"\(errormsg \d+:(?P<message>[^)\n]*)")


class RegoCompileError(Exception):
    """A module that does not compile; line and column in the module file."""

    def __init__(self, detail: str, *, line: int | None = None, column: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.line = line
        self.column = column


class RegoRuntimeError(Exception):
    """A module that failed while running over real facts."""


@dataclass
class RegoModule:
    """A compiled module and the query for its `deny` set."""

    path: Path
    source: str
    package: str
    _interpreter: Any = field(repr=False)

    def deny(self, input_json: str) -> tuple[str, ...]:
        """The deny messages for the facts given as a JSON document."""
        try:
            self._interpreter.set_input_term(input_json)
            output = self._interpreter.query(f"data.{self.package}.deny")
        except regopy.RegoError as error:
            raise RegoRuntimeError(_describe(str(error), self.source)[0]) from error
        if not output.ok():
            raise RegoRuntimeError(str(output).strip().splitlines()[0])
        if len(output) == 0 or not output[0].expressions:
            return ()
        found = output[0].expressions[0]
        if not isinstance(found, list):
            raise RegoRuntimeError(f"data.{self.package}.deny is not a set of messages")
        return tuple(sorted(m if isinstance(m, str) else json.dumps(m) for m in found))


def compile_module(path: Path, source: str) -> RegoModule:
    """Compile the module at `path`; raises RegoCompileError naming line and column."""
    match = _PACKAGE.search(source)
    if match is None:
        raise RegoCompileError("Rego module has no package declaration", line=1, column=1)
    interpreter = regopy.Interpreter()
    interpreter.log_level = regopy.LogLevel.NONE
    try:
        interpreter.add_module(path.name, source)
        interpreter.set_input_term("{}")
        output = interpreter.query(f"data.{match.group(1)}.deny")
    except regopy.RegoError as error:
        detail, line, column = _describe(str(error), source)
        raise RegoCompileError(
            f"Rego does not compile: {detail}", line=line, column=column
        ) from error
    if not output.ok():
        raise RegoCompileError(f"Rego does not compile: {str(output).strip().splitlines()[0]}")
    return RegoModule(path, source, match.group(1), interpreter)


def _describe(text: str, source: str) -> tuple[str, int | None, int | None]:
    """The first error message of a rego-cpp error sequence, and its line and column."""
    message = _MESSAGE.search(text)
    detail = message.group("message").strip() if message else text.strip().splitlines()[0]
    where = _ERROR.search(text)
    if where is None:
        return detail, None, None
    offset = int(where.group("offset"))
    before = source.encode()[:offset].decode(errors="replace")
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    return detail, line, column
