"""Every problem of a policy at once, as ruff reports a file: one line each, file:line:col."""

from __future__ import annotations

from collections.abc import Sequence

from gatekeeper.errors import PolicyError


class PolicyProblemsError(PolicyError):
    """Several problems found in one pass; `str()` is the first, `problems` holds them all."""

    def __init__(self, problems: Sequence[PolicyError]) -> None:
        first = problems[0]
        more = len(problems) - 1
        hint = (
            f"{more} more problem{'s' if more > 1 else ''}: `gatekeeper policy validate` lists all"
        )
        super().__init__(
            first.source, first.detail, line=first.line, column=first.column, hint=hint
        )
        self.problems = tuple(problems)


def raise_problems(problems: Sequence[PolicyError]) -> None:
    """Raise the one problem, or all of them together; nothing when there are none."""
    unique = list({str(problem): problem for problem in problems}.values())
    if len(unique) == 1:
        raise unique[0]
    if unique:
        raise PolicyProblemsError(sorted(unique, key=_place))


def all_problems(error: PolicyError) -> tuple[PolicyError, ...]:
    """The problems `error` stands for (itself when it is a single one)."""
    return error.problems if isinstance(error, PolicyProblemsError) else (error,)


def _place(error: PolicyError) -> tuple[str, int, int]:
    return (error.source, error.line or 0, error.column or 0)
