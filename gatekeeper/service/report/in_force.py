"""The policy versions in force during the period: those that judged its records, each with
its publication (ISO 9001 7.5.3 for the process definition) when the project published it."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.engine import Connection

from gatekeeper.service.policies import list_policies
from gatekeeper.service.report.model import EvidenceLine, PolicyInForce

__all__ = ["policies_in_force"]


def policies_in_force(
    connection: Connection, project: str, lines: Iterable[EvidenceLine]
) -> tuple[PolicyInForce, ...]:
    """One row per (name, version, digest) that judged a record, first used first."""
    used: dict[tuple[str, str | None, str], list[str]] = {}
    for line in lines:
        record = line.record
        if record.policy_digest is None:
            continue
        key = (record.policy_name or "", record.policy_version, record.policy_digest)
        used.setdefault(key, []).append(record.integrated_at)
    published = {policy.digest: policy for policy in list_policies(connection, project)}
    out = []
    for (name, version, digest), times in used.items():
        publication = published.get(digest)
        out.append(
            PolicyInForce(
                name=name,
                version=version,
                digest=digest,
                records=len(times),
                first_used=min(times),
                last_used=max(times),
                published_by=None if publication is None else publication.published_by,
                published_at=None if publication is None else publication.published_at,
                publication_record=None if publication is None else publication.record_id,
            )
        )
    return tuple(sorted(out, key=lambda policy: (policy.first_used, policy.name)))
