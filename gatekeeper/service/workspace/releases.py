"""Releases (8.6): each release record with the changes it ships, their records, and who
authorised it, read from the signed statement's `release` facts.

A release record whose statement carries no readable `release` facts is still listed, with the
reason, never as a release of no changes."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select
from sqlalchemy.engine import Connection

from gatekeeper.attest.predicate import PredicateError, read_predicate
from gatekeeper.facts import Release, ReleaseChange
from gatekeeper.service.tables import RecordRow
from gatekeeper.service.workspace.filters import RecordFilter
from gatekeeper.service.workspace.listing import list_records, records_by_id
from gatekeeper.service.workspace.models import RecordSummary

__all__ = ["ReleaseEntry", "ReleasesPage", "ShippedChange", "release_of", "releases"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ShippedChange(_Frozen):
    """One change of a release and its evidence record, when the reader may open it."""

    change: ReleaseChange
    record: RecordSummary | None

    @property
    def state(self) -> str:
        """`gated` (a passing record), `failed` (its record failed) or `ungated`."""
        if self.change.gated:
            return "gated"
        return "failed" if self.change.verdict == "fail" else "ungated"


class ReleaseEntry(_Frozen):
    """A release record, its release facts (or why there are none) and its changes."""

    record: RecordSummary
    release: Release | None
    problem: str | None
    changes: tuple[ShippedChange, ...]


class ReleasesPage(_Frozen):
    """One page of releases, newest first, with the cursors of the next pages."""

    releases: tuple[ReleaseEntry, ...]
    total: int
    older: int | None
    newer: int | None


def _release_facts(envelope: bytes) -> tuple[Release | None, str | None]:
    try:
        statement = json.loads(base64.b64decode(json.loads(envelope)["payload"], validate=True))
        predicate = read_predicate(str(statement.get("predicateType")), statement["predicate"])
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error, PredicateError):
        return None, "the statement cannot be read as a verdict"
    found = predicate.facts.get("release")
    if found is None:
        return None, "the record carries no release facts (a tag pipeline without them)"
    try:
        return Release.model_validate(found), None
    except ValidationError as error:
        first = error.errors()[0]
        place = ".".join(str(part) for part in first["loc"]) or "release"
        return None, f"the release facts are unreadable: {place}: {first['msg']}"[:300]


def _envelopes(connection: Connection, ids: list[str]) -> dict[str, bytes]:
    if not ids:
        return {}
    query = select(RecordRow.id, RecordRow.envelope).where(RecordRow.id.in_(ids))
    return {str(row.id): bytes(row.envelope) for row in connection.execute(query)}


def _entries(
    connection: Connection, records: Iterable[RecordSummary], readable: frozenset[str] | None
) -> tuple[ReleaseEntry, ...]:
    records = list(records)
    envelopes = _envelopes(connection, [record.record_id for record in records])
    facts = {rid: _release_facts(envelope) for rid, envelope in envelopes.items()}
    change_ids = sorted(
        {
            change.record_id
            for release, _ in facts.values()
            if release is not None
            for change in release.changes
            if change.record_id
        }
    )
    linked = {
        rid: summary
        for rid, summary in records_by_id(connection, change_ids).items()
        if readable is None or summary.project in readable
    }
    out = []
    for record in records:
        release, problem = facts.get(record.record_id, (None, "the record is missing"))
        changes = () if release is None else release.changes
        shipped = tuple(
            ShippedChange(change=c, record=linked.get(c.record_id or "")) for c in changes
        )
        out.append(ReleaseEntry(record=record, release=release, problem=problem, changes=shipped))
    return tuple(out)


def releases(
    connection: Connection,
    where: RecordFilter,
    readable: frozenset[str] | None,
    *,
    limit: int = 20,
    older_than: int | None = None,
    newer_than: int | None = None,
) -> ReleasesPage:
    """The release records the filter selects, newest first, each with its changes; change
    records are linked only when they belong to `readable` projects (None: every project)."""
    page = list_records(
        connection,
        where.model_copy(update={"kind": "release"}),
        limit=limit,
        older_than=older_than,
        newer_than=newer_than,
    )
    return ReleasesPage(
        releases=_entries(connection, page.records, readable),
        total=page.total,
        older=page.older,
        newer=page.newer,
    )


def release_of(
    connection: Connection, record: RecordSummary, readable: frozenset[str] | None
) -> ReleaseEntry | None:
    """The release view of one record, or None when it is not a release record."""
    if record.kind != "release":
        return None
    return _entries(connection, [record], readable)[0]
