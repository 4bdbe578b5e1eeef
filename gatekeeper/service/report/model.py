"""The typed audit report: what `build_report` assembles and every renderer reads."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gatekeeper.service.workspace.filters import RecordFilter
from gatekeeper.service.workspace.models import (
    Concession,
    Nonconformity,
    RecordSummary,
    Sample,
    TrendPoint,
)

__all__ = [
    "AuditReport",
    "ClauseLine",
    "Cover",
    "EvidenceLine",
    "Format",
    "PolicyInForce",
    "ReleaseChangeLine",
    "ReleaseLine",
    "ReportRequest",
    "Verification",
]

Format = Literal["html", "pdf", "csv"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReportRequest(_Frozen):
    """What to report on: one project, a period of whole UTC days, the records list's filters
    and an optional seeded sample."""

    project: str
    since: dt.date | None = None
    """First day of the period (None: from the first record)."""
    until: dt.date | None = None
    """Last day of the period, included (None: up to now)."""
    where: RecordFilter = Field(default_factory=RecordFilter)
    """The records list's filters, besides project and period."""
    sample_size: int | None = None
    seed: str | None = None

    def record_filter(self) -> RecordFilter:
        """The filter of the report's records: project, period and the other filters."""
        return self.where.model_copy(
            update={
                "projects": (self.project,),
                "since": self.since_time(),
                "until": self.until_time(),
            }
        )

    def since_time(self) -> str | None:
        """The period's start as `integrated_at` is written (None: unbounded)."""
        return None if self.since is None else f"{self.since.isoformat()}T00:00:00.000000Z"

    def until_time(self) -> str | None:
        """The period's end, exclusive: the day after `until` (None: unbounded)."""
        if self.until is None:
            return None
        return f"{(self.until + dt.timedelta(days=1)).isoformat()}T00:00:00.000000Z"


class Cover(_Frozen):
    """The report's first page."""

    project: str
    since: dt.date | None
    until: dt.date | None
    generated_at: str
    service_key_id: str
    filters: tuple[tuple[str, str], ...]
    """The filters besides project and period, as (name, value), for the reader."""
    records: int
    passed: int
    failed: int
    waived: int
    releases: int


class PolicyInForce(_Frozen):
    """A policy version that judged records of the period, and its publication if any."""

    name: str
    version: str | None
    digest: str
    records: int
    first_used: str
    last_used: str
    published_by: str | None
    published_at: str | None
    publication_record: str | None


class EvidenceLine(_Frozen):
    """One record of the period: its verdict, waiver mark, approvers and what the service
    confirmed."""

    record: RecordSummary
    confirmed: tuple[str, ...]
    """One sentence per fact section, as the record page words it."""
    run_url: str | None
    title: str | None
    sampled: bool


class ReleaseChangeLine(_Frozen):
    """One change a release shipped, with the evidence record named by the release facts."""

    number: int | None
    title: str
    merge_commit: str
    record_id: str | None
    verdict: str | None
    gated: bool


class ReleaseLine(_Frozen):
    """A release record: its tag, changes and who authorised it (8.6 b)."""

    evidence: EvidenceLine
    tag: str
    previous_tag: str | None
    approvals: tuple[tuple[str, str], ...]
    """(who, when) of each release approval."""
    changes: tuple[ReleaseChangeLine, ...]
    changes_ungated: int
    changes_failed: int


class ClauseLine(_Frozen):
    """One ISO 9001 clause and the evidence of this report that serves it."""

    clause: str
    title: str
    kept: str
    """What Gatekeeper keeps for it (DESIGN)."""
    evidence: str
    """What this report holds for it, with counts."""
    section: str
    """The id of the report section to read."""


class Verification(_Frozen):
    """How to verify the period's records offline: the export bundle and the commands."""

    bundle_name: str
    bundle_sha256: str
    bundle_bytes: int
    bundle_records: int
    records_member_sha256: str
    exported_at: str
    checkpoint_size: int
    checkpoint_root: str
    checkpoint_key_id: str
    export_url: str
    commands: tuple[str, ...]


class AuditReport(_Frozen):
    """Everything the audit report shows, in reading order."""

    cover: Cover
    policies: tuple[PolicyInForce, ...]
    changes: tuple[EvidenceLine, ...]
    releases: tuple[ReleaseLine, ...]
    nonconformities: tuple[Nonconformity, ...]
    concessions: tuple[Concession, ...]
    trends: tuple[TrendPoint, ...]
    clauses: tuple[ClauseLine, ...]
    sample: Sample | None
    verification: Verification | None
    """None when the log has no signed checkpoint yet."""
    bundle: bytes = Field(default=b"", repr=False, exclude=True)
    """The export bundle `verification` describes (kept for the PDF's attachment)."""
