"""The filters of the records listing, as one frozen model turned into SQL conditions."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, or_

from gatekeeper.service.tables import RecordFacetRow

__all__ = ["Kind", "RecordFilter", "conditions"]

Kind = Literal["pr", "push", "release", "other"]

_F = RecordFacetRow


class RecordFilter(BaseModel):
    """Which records: every field left None does not filter. `projects` None is every project."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    projects: tuple[str, ...] | None = None
    verdict: Literal["pass", "fail"] | None = None
    waived: bool | None = None
    rule: str | None = None
    """A rule id that failed or was waived in the record."""
    ref_prefix: str | None = None
    commit: str | None = None
    """The full Git commit SHA."""
    since: str | None = None
    """Integrated at or after (UTC, as `integrated_at` is written)."""
    until: str | None = None
    """Integrated before."""
    policy: str | None = None
    """The policy's name, digest or `name@version`."""
    change_id: str | None = None
    author: str | None = None
    kind: Kind | None = None


def conditions(where: RecordFilter) -> list[ColumnElement[bool]]:
    """The SQL conditions on `record_facets` of the filter."""
    out: list[ColumnElement[bool]] = []
    if where.projects is not None:
        out.append(_F.project.in_(sorted(where.projects)))
    if where.verdict is not None:
        out.append(_F.verdict == where.verdict)
    if where.waived is not None:
        out.append(_F.waived == int(where.waived))
    if where.rule is not None:
        pattern = f"% {where.rule} %"
        out.append(or_(_F.failed_rules.like(pattern), _F.waived_rules.like(pattern)))
    if where.ref_prefix is not None:
        out.append(_F.ref.startswith(where.ref_prefix, autoescape=True))
    if where.since is not None:
        out.append(_F.integrated_at >= where.since)
    if where.until is not None:
        out.append(_F.integrated_at < where.until)
    if where.policy is not None:
        name, _, version = where.policy.partition("@")
        by_version = _F.policy_name == name
        if version:
            by_version = by_version & (_F.policy_version == version)
        out.append(or_(_F.policy_digest == where.policy, by_version))
    for column, value in (
        (_F.commit, where.commit),
        (_F.change_id, where.change_id),
        (_F.author, where.author),
        (_F.kind, where.kind),
    ):
        if value is not None:
            out.append(column == value)
    return out
