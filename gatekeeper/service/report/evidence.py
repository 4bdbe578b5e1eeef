"""The period's records for the report, read in batches with their statements (never one query
per record): each as an evidence line, release records also as release lines.

Every value comes from a statement a submitter sent; it is type-checked here and escaped by the
renderer of each channel."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.engine import Connection

from gatekeeper.attest.predicate import Confirmation
from gatekeeper.service.pages.views import confirmations, safe_url
from gatekeeper.service.report.model import EvidenceLine, ReleaseChangeLine, ReleaseLine
from gatekeeper.service.tables import RecordFacetRow, RecordRow
from gatekeeper.service.workspace.filters import RecordFilter, conditions
from gatekeeper.service.workspace.models import RecordSummary, summary_from_row

__all__ = ["PeriodRecord", "period_records", "release_line"]

_BATCH = 500
_F = RecordFacetRow


@dataclass(frozen=True)
class PeriodRecord:
    """One record of the period: its line in the report and the predicate it was read from."""

    line: EvidenceLine
    predicate: Mapping[str, Any]


def _predicate(envelope: bytes) -> dict[str, Any]:
    """The statement's predicate as plain JSON ({} when it cannot be read)."""
    try:
        payload = json.loads(envelope)["payload"]
        statement = json.loads(base64.b64decode(payload, validate=True))
    except (ValueError, KeyError, TypeError, binascii.Error):
        return {}
    predicate = statement.get("predicate") if isinstance(statement, dict) else None
    return predicate if isinstance(predicate, dict) else {}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


_CONFIRMED = TypeAdapter(dict[str, Confirmation])


def _confirmed(predicate: dict[str, Any]) -> dict[str, Confirmation] | None:
    try:
        return _CONFIRMED.validate_python(predicate.get("confirmed") or {})
    except ValidationError:
        return None


def _line(summary: RecordSummary, predicate: dict[str, Any], sampled: bool) -> EvidenceLine:
    facts = _dict(predicate.get("facts"))
    title = _dict(facts.get("change")).get("title")
    run = _dict(predicate.get("run") or predicate.get("ci"))
    return EvidenceLine(
        record=summary,
        confirmed=tuple(confirmations(_confirmed(predicate))) if predicate else (),
        run_url=safe_url(run.get("run_url")),
        title=title[:300] if isinstance(title, str) and title else None,
        sampled=sampled,
    )


def period_records(
    connection: Connection, where: RecordFilter, sampled: frozenset[str] = frozenset()
) -> Iterator[PeriodRecord]:
    """The records `where` selects, in log order, `_BATCH` rows per query."""
    query = (
        select(RecordFacetRow.__table__, RecordRow.envelope)
        .join(RecordRow, RecordRow.id == _F.record_id)
        .where(*conditions(where))
        .order_by(_F.log_index)
        .limit(_BATCH)
    )
    last = -1
    while True:
        rows = connection.execute(query.where(_F.log_index > last)).all()
        for row in rows:
            summary = summary_from_row(row._mapping)
            predicate = _predicate(bytes(row.envelope))
            yield PeriodRecord(_line(summary, predicate, summary.record_id in sampled), predicate)
        if len(rows) < _BATCH:
            return
        last = int(rows[-1].log_index)


def _text(value: Any, limit: int = 300) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _change(value: Any) -> ReleaseChangeLine:
    item = _dict(value)
    number = item.get("number")
    verdict = item.get("verdict")
    return ReleaseChangeLine(
        number=number if isinstance(number, int) and not isinstance(number, bool) else None,
        title=_text(item.get("title")) or "",
        merge_commit=_text(item.get("merge_commit"), 64) or "",
        record_id=_text(item.get("record_id"), 64),
        verdict=verdict if verdict in ("pass", "fail") else None,
        gated=item.get("gated") is True,
    )


def _approval(value: Any) -> tuple[str, str] | None:
    item = _dict(value)
    who = _text(item.get("who"), 200)
    return None if who is None else (who, _text(item.get("when"), 40) or "")


def release_line(record: PeriodRecord) -> ReleaseLine | None:
    """The release a record judged, from its `release` facts (None when it has none)."""
    release = _dict(_dict(record.predicate.get("facts")).get("release"))
    tag = _text(release.get("tag")) or record.line.record.ref
    if record.line.record.kind != "release" or tag is None:
        return None
    changes = release.get("changes")
    approvals = release.get("approvals")
    return ReleaseLine(
        evidence=record.line,
        tag=tag.removeprefix("refs/tags/"),
        previous_tag=_text(release.get("previous_tag")),
        approvals=tuple(
            a for a in map(_approval, approvals if isinstance(approvals, list) else []) if a
        ),
        changes=tuple(map(_change, changes if isinstance(changes, list) else [])),
        changes_ungated=_count(release.get("changes_ungated")),
        changes_failed=_count(release.get("changes_failed")),
    )
