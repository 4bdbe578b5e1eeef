"""The records filters of the pages: read from the query string, checked, kept on every link.

The names are the API's (`GET /v1/evidence`): project, verdict, outcome, ref_prefix, commit,
since, until, policy, change, author, kind. A bad value is a 422 page naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import get_args
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from gatekeeper.service._clock import format_time
from gatekeeper.service.auth import Principal
from gatekeeper.service.deps import require_project
from gatekeeper.service.projects import ProjectNameError, validate_project
from gatekeeper.service.workspace.filters import Kind, RecordFilter

__all__ = ["FILTER_NAMES", "KINDS", "PageFilters", "PageInputError", "page_limit"]

FILTER_NAMES = (
    "project",
    "verdict",
    "outcome",
    "ref_prefix",
    "commit",
    "since",
    "until",
    "policy",
    "change",
    "author",
    "kind",
)
KINDS: tuple[str, ...] = get_args(Kind)
_LIMITS = {"ref_prefix": 300, "commit": 64, "policy": 200, "change": 32, "author": 200}
_PAGE_SIZE = 50


class PageInputError(ValueError):
    """A query value the pages refuse: the sentence names the field."""


def _project(value: str) -> str:
    try:
        return validate_project(value)
    except ProjectNameError as error:
        raise PageInputError(f"project: {error}") from None


def _day(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PageInputError(f"{name}: {value[:40]!r} is not a date (YYYY-MM-DD)") from None


def _check(values: dict[str, str]) -> None:
    choices = {"verdict": ("pass", "fail"), "outcome": ("waived",), "kind": KINDS}
    for name, allowed in choices.items():
        if values[name] and values[name] not in allowed:
            raise PageInputError(f"{name}: choose one of {', '.join(allowed)}")
    for name, limit in _LIMITS.items():
        if len(values[name]) > limit:
            raise PageInputError(f"{name}: at most {limit} characters")
    if values["project"]:
        _project(values["project"])
    for name in ("since", "until"):
        if values[name]:
            _day(name, values[name])


def _start_of(day: date) -> str:
    return format_time(datetime(day.year, day.month, day.day, tzinfo=UTC))


@dataclass(frozen=True)
class PageFilters:
    """The records filters of one request: every known name, "" when not set."""

    values: dict[str, str]

    @classmethod
    def from_query(cls, query: QueryParams) -> PageFilters:
        """The filters of a query string; PageInputError names the first bad one."""
        values = {name: query.get(name, "").strip() for name in FILTER_NAMES}
        _check(values)
        return cls(values)

    @classmethod
    def for_project(cls, project: str) -> PageFilters:
        """The filters selecting every record of `project`."""
        return cls({name: project if name == "project" else "" for name in FILTER_NAMES})

    def __getitem__(self, name: str) -> str:
        return self.values[name]

    @property
    def active(self) -> dict[str, str]:
        """The filters that are set."""
        return {name: value for name, value in self.values.items() if value}

    def query(self, **extra: str | int | None) -> str:
        """The query string of these filters and `extra` (None and "" left out)."""
        kept: dict[str, str] = dict(self.active)
        kept.update({k: str(v) for k, v in extra.items() if v is not None and v != ""})
        return urlencode(kept)

    def link(self, path: str, **extra: str | int | None) -> str:
        """`path` with these filters (and `extra`) as its query."""
        query = self.query(**extra)
        return f"{path}?{query}" if query else path

    def record_filter(self, principal: Principal) -> RecordFilter:
        """The workspace filter, limited to the projects `principal` may read (403 otherwise)."""
        values = self.values
        if values["project"]:
            require_project(principal, values["project"])
            projects: tuple[str, ...] | None = (values["project"],)
        elif principal.projects is not None:
            projects = tuple(sorted(principal.projects))
        else:
            projects = None
        since = _day("since", values["since"]) if values["since"] else None
        until = _day("until", values["until"]) if values["until"] else None
        return RecordFilter.model_validate(
            {
                "projects": projects,
                "verdict": values["verdict"] or None,
                "waived": True if values["outcome"] == "waived" else None,
                "ref_prefix": values["ref_prefix"] or None,
                "commit": values["commit"] or None,
                "since": None if since is None else _start_of(since),
                # a bare until date includes that whole day (UTC)
                "until": None if until is None else _start_of(until + timedelta(days=1)),
                "policy": values["policy"] or None,
                "change_id": values["change"] or None,
                "author": values["author"] or None,
                "kind": values["kind"] or None,
            }
        )


def page_limit(value: str) -> int:
    """The page size of `?limit=` (50 by default, 1 to 500)."""
    if not value:
        return _PAGE_SIZE
    if not (value.isascii() and value.isdigit() and 1 <= int(value[:4]) <= 500):
        raise PageInputError("limit: a page holds 1 to 500 records")
    return int(value)
