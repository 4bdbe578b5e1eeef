"""CEL expressions over the facts: the only module that imports `cel` (common-expression-language).

Expressions compile once when the policy loads. The library has no static type checker, so after
compiling, each expression is run once against a probe activation holding a value of the right type
for every fact: an operator applied to the wrong types fails there, at load time, not in CI.
The probe and every evaluation run in a worker process under a time budget per expression
(`_budget`); the worker compiles each source once and keeps the program.
"""

from __future__ import annotations

import functools
import importlib
import importlib.machinery
import importlib.util
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from gatekeeper.facts import SECTIONS, Facts, TestFailure
from gatekeeper.policy._budget import DEFAULT_BUDGET_S, BudgetExceededError, run_tasks

if TYPE_CHECKING:
    import cel

_POSITION = re.compile(r"<input>:(\d+):(\d+): (.*)")
_EXPECTING = re.compile(r" expecting \{[^}]{60,}\}")


@functools.cache
def _cel() -> Any:
    """The library's compiled core, loaded on first use.

    `import cel` runs the package's `__init__`, which also imports its interactive REPL
    (prompt_toolkit, pygments: ~0.3 s, more than a whole gate evaluation). The whole API
    (compile, Context, Program) lives in the compiled `cel.cel` extension, so load just that;
    fall back to the ordinary import if the package layout ever changes.
    """
    spec = importlib.util.find_spec("cel")
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            for extension in Path(folder).glob("cel.*.so"):
                loader = importlib.machinery.ExtensionFileLoader("cel.cel", str(extension))
                core_spec = importlib.util.spec_from_file_location(
                    "cel.cel", extension, loader=loader
                )
                if core_spec is not None:
                    core = importlib.util.module_from_spec(core_spec)
                    loader.exec_module(core)
                    if hasattr(core, "compile") and hasattr(core, "Context"):
                        return core
    return importlib.import_module("cel")


class CelError(Exception):
    """An expression that does not compile or does not type-check; line/column within it."""

    def __init__(self, detail: str, *, line: int | None = None, column: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.line = line
        self.column = column


class CelRuntimeError(Exception):
    """An expression that failed while running over real facts."""


class CelBudgetError(Exception):
    """Expression `index` (of those run together) ran longer than `budget` seconds."""

    def __init__(self, index: int, budget: float) -> None:
        super().__init__(f"the expression ran longer than its budget of {budget:g} s")
        self.index = index
        self.budget = budget


@dataclass(frozen=True)
class CelProgram:
    """A compiled expression; it runs in a budget worker (`_budget`), which compiles it again
    from its source once and keeps it."""

    source: str


@dataclass(frozen=True)
class Activation:
    """The facts as CEL variables (JSON values), built once per evaluation."""

    variables: dict[str, Any]


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"


def compile_expression(source: str, *, budget: float | None = DEFAULT_BUDGET_S) -> CelProgram:
    """Compile and type-check `source`; raises CelError with the position within it.

    With `budget` None the probe is left to the caller (`type_check`, for many at once)."""
    try:
        _cel().compile(source)
    except Exception as error:  # the library raises ValueError for syntax errors
        text = str(error)
        match = _POSITION.search(text)
        if match is None:
            raise CelError(f"CEL syntax error: {_first_line(text)}") from error
        detail = _EXPECTING.sub("", match.group(3)).removeprefix("Syntax error: ")
        raise CelError(
            f"CEL syntax error: {detail}", line=int(match.group(1)), column=int(match.group(2))
        ) from error
    compiled = CelProgram(source)
    if budget is not None:
        problem = type_check([compiled], budget)[0]
        if problem is not None:
            raise CelError(problem)
    return compiled


def type_check(programs: list[CelProgram], budget: float) -> list[str | None]:
    """Each program's type problem over the probe activation (None: none), `budget` s each;
    raises CelBudgetError naming the first program whose probe overran."""
    return _in_worker(("probe", [p.source for p in programs], None), budget)


def run_programs(
    programs: list[CelProgram], activation: Activation, budget: float
) -> list[Any | CelRuntimeError]:
    """Each program's value over `activation` (or its CelRuntimeError), `budget` s each;
    raises CelBudgetError naming the first program that overran."""
    return _in_worker(("run", [p.source for p in programs], activation.variables), budget)


def _in_worker(request: _Request, budget: float) -> list[Any]:
    if not request[1]:
        return []
    try:
        return run_tasks(_handle, request, budget)
    except BudgetExceededError as error:
        raise CelBudgetError(error.index, error.budget) from error


_Request = tuple[str, list[str], dict[str, Any] | None]
_CACHED_PROGRAMS = 4096
_programs: dict[str, cel.Program] = {}
"""The worker's compiled programs by source: CI jobs and the service judge the same policies."""


def _handle(request: _Request, started: Callable[[int], None]) -> list[Any]:
    """In the worker: each source's probe problem ("probe") or value over the variables ("run")."""
    kind, sources, variables = request
    context = _probe_context() if variables is None else _cel().Context(variables)
    check = _probe_problem if kind == "probe" else _value_or_error
    results = []
    for index, source in enumerate(sources):
        started(index)
        results.append(check(_program(source), context))
    return results


def _program(source: str) -> cel.Program:
    program = _programs.get(source)
    if program is None:
        if len(_programs) >= _CACHED_PROGRAMS:
            _programs.clear()
        program = _programs[source] = _cel().compile(source)
    return program


def _probe_problem(program: cel.Program, context: cel.Context) -> str | None:
    problem: str | None = None
    try:
        result = program.execute(context)
    except TypeError as error:
        problem = f"CEL type error: {_first_line(str(error))}"
    except RuntimeError as error:
        text = _first_line(str(error))
        # other runtime errors depend on the values (e.g. division by zero)
        if "Undefined variable" in text:
            problem = f"CEL error: {text.split('. ')[0]}"
    except KeyError as error:
        problem = f"CEL error: no field {error} in the facts"
    except Exception:  # value-dependent errors (division by zero, index) are not type errors
        problem = None
    else:
        if not isinstance(result, bool):
            kind = type(result).__name__
            problem = f"CEL type error: the expression gives {kind}, not true or false"
    return problem


_PLAIN = (bool, int, float, str, type(None), list, dict)


def _value_or_error(program: cel.Program, context: cel.Context) -> Any:
    try:
        value = program.execute(context)
    except Exception as error:  # the library raises TypeError, RuntimeError, ValueError
        return CelRuntimeError(_first_line(str(error)))
    if not isinstance(value, _PLAIN):  # it crosses a pipe; a rule needs only true or false
        return CelRuntimeError(f"the expression gave a {type(value).__name__}, not true or false")
    return value


def build_activation(facts: Facts, read: frozenset[str]) -> Activation:
    """The facts as CEL variables: only the sections expressions read.

    `tests.failures` is included only when read, and each failure holds only the fields some
    expression names (`tests.failures.<field>` in `read`): converting them is the costly part.
    """
    variables: dict[str, Any] = {}
    sections = {name.split(".")[0] for name in read}
    for section in SECTIONS:
        value = getattr(facts, section)
        if section not in sections or value is None:
            continue
        exclude = {"failures"} if section == "tests" else None
        variables[section] = value.model_dump(mode="json", exclude=exclude)
    if facts.tests is not None and "tests.failures" in read:
        fields = [name.split(".")[2] for name in sorted(read) if name.count(".") == 2]
        variables["tests"]["failures"] = [
            {field: getattr(failure, field) for field in fields} for failure in facts.tests.failures
        ]
    return Activation(variables)


def failure_fields(expression: str) -> set[str]:
    """Names `tests.<failures>.<field>` for each failure field the expression's text names."""
    return {
        f"tests.failures.{field}"
        for field in TestFailure.model_fields
        if re.search(rf"\b{field}\b", expression)
    }


@functools.cache
def _probe_context() -> cel.Context:
    context: cel.Context = _cel().Context(
        {section: _sample(_annotation(Facts, section)) for section in SECTIONS}
    )
    return context


def _annotation(model: type[BaseModel], name: str) -> Any:
    return model.model_fields[name].annotation


def _sample(annotation: Any) -> Any:
    """A value of the type `annotation` describes, for the probe activation."""
    origin = typing.get_origin(annotation)
    if origin in (types.UnionType, typing.Union):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return _sample(args[0])
    if origin is typing.Literal:
        return typing.get_args(annotation)[0]
    if origin is tuple:
        return [_sample(typing.get_args(annotation)[0])]
    if origin is dict or annotation is dict:
        return {}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {name: _sample(info.annotation) for name, info in annotation.model_fields.items()}
    samples: Mapping[Any, Any] = {bool: True, int: 1, float: 0.5, str: "x"}
    return samples.get(annotation)
