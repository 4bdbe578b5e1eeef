"""The frozen result models of the workspace queries."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

__all__ = [
    "Concession",
    "Nonconformity",
    "ProjectSummary",
    "RecordSummary",
    "RecordsPage",
    "Sample",
    "TrendPoint",
    "WaiverUse",
    "summary_from_row",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WaiverUse(_Frozen):
    """One waiver as the evaluation of a record recorded it."""

    rule: str
    reason: str | None = None
    approved_by: str
    expires: dt.date
    ticket: str | None = None
    status: str


class RecordSummary(_Frozen):
    """One record as the workspace lists it."""

    record_id: str
    project: str
    log_index: int
    integrated_at: str
    verdict: str | None
    waived: bool
    ref: str | None
    commit: str | None
    kind: str
    change_id: str | None
    author: str | None
    policy_name: str | None
    policy_digest: str | None
    policy_version: str | None
    failed_rules: tuple[str, ...]
    waived_rules: tuple[str, ...]
    line_rate: float | None
    tests_total: int | None
    tests_failed: int | None
    tests_flaky: int | None
    evaluated_at: str | None
    approvers: tuple[str, ...]
    waivers: tuple[WaiverUse, ...]


class RecordsPage(_Frozen):
    """One page of records, newest first; `older` / `newer` are the cursors of the next pages."""

    records: tuple[RecordSummary, ...]
    total: int
    older: int | None
    newer: int | None


class Sample(_Frozen):
    """A reproducible random sample of a filtered set: same seed and filter, same records."""

    seed: str
    size: int
    population: int
    records: tuple[RecordSummary, ...]


class Nonconformity(_Frozen):
    """A failed record (10.2) and the later passing record of the same change, if any."""

    failed: RecordSummary
    correction: RecordSummary | None

    @property
    def status(self) -> Literal["corrected", "open"]:
        """Whether a later head commit of the same change passed."""
        return "open" if self.correction is None else "corrected"


class Concession(_Frozen):
    """A waiver used (8.7): who approved it, until when, and the records it let pass."""

    project: str
    rule: str
    approved_by: str
    reason: str | None
    expires: dt.date
    ticket: str | None
    records: tuple[str, ...]
    state: Literal["active", "expiring", "expired"]
    """Expired before today, expiring within 14 days, or active beyond."""


class TrendPoint(_Frozen):
    """One ISO week of one project (9.1.3)."""

    week: dt.date
    """The Monday the week starts on."""
    records: int
    passed: int
    pass_rate: float
    line_rate: float | None
    """Mean line coverage of the week's records that measured it."""
    tests_total: int | None
    """Tests of the week's newest record that counted them."""
    tests_flaky: int
    """Flaky tests summed over the week's records."""


class ProjectSummary(_Frozen):
    """A project at a glance (home page)."""

    project: str
    latest: RecordSummary | None
    pass_rate_30d: float | None
    records_30d: int
    open_nonconformities: int
    active_concessions: int


def _ids(value: Any) -> tuple[str, ...]:
    return tuple(str(value).split()) if value else ()


def _waivers(value: Any) -> tuple[WaiverUse, ...]:
    try:
        items = json.loads(value or "[]")
        return tuple(
            WaiverUse.model_validate({k: v for k, v in item.items() if k != "message"})
            for item in items
        )
    except (ValueError, TypeError, AttributeError):
        return ()


def summary_from_row(row: Mapping[Any, Any]) -> RecordSummary:
    """A RecordSummary from a `record_facets` row."""
    return RecordSummary(
        record_id=row["record_id"],
        project=row["project"],
        log_index=int(row["log_index"]),
        integrated_at=row["integrated_at"],
        verdict=row["verdict"],
        waived=bool(row["waived"]),
        ref=row["ref"],
        commit=row["commit"],
        kind=row["kind"],
        change_id=row["change_id"],
        author=row["author"],
        policy_name=row["policy_name"],
        policy_digest=row["policy_digest"],
        policy_version=row["policy_version"],
        failed_rules=_ids(row["failed_rules"]),
        waived_rules=_ids(row["waived_rules"]),
        line_rate=row["line_rate"],
        tests_total=row["tests_total"],
        tests_failed=row["tests_failed"],
        tests_flaky=row["tests_flaky"],
        evaluated_at=row["evaluated_at"],
        approvers=_ids(row["approvers"]),
        waivers=_waivers(row["waivers"]),
    )
