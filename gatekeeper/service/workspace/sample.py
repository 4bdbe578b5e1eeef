"""A seeded random sample of a filtered set of records, for an auditor's sampling plan."""

from __future__ import annotations

import hashlib
import random

from sqlalchemy import select
from sqlalchemy.engine import Connection

from gatekeeper.service.tables import RecordFacetRow
from gatekeeper.service.workspace.filters import RecordFilter, conditions
from gatekeeper.service.workspace.models import RecordSummary, Sample, summary_from_row

__all__ = ["sample_records"]

_F = RecordFacetRow


def sample_records(connection: Connection, where: RecordFilter, size: int, seed: str) -> Sample:
    """`size` records drawn at random from the filtered set, newest first: the same seed and
    filter over the same records always draw the same sample."""
    population = [
        int(index)
        for index in connection.execute(
            select(_F.log_index).where(*conditions(where)).order_by(_F.log_index)
        ).scalars()
    ]
    # the seed is hashed so any text seeds the same way on every Python version
    rng = random.Random(  # noqa: S311 - reproducible sampling, not secrecy
        int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big")
    )
    chosen = sorted(rng.sample(population, min(size, len(population))), reverse=True)
    records: list[RecordSummary] = []
    for start in range(0, len(chosen), 500):
        chunk = chosen[start : start + 500]
        query = select(RecordFacetRow.__table__).where(_F.log_index.in_(chunk))
        records.extend(summary_from_row(row._mapping) for row in connection.execute(query))
    records.sort(key=lambda record: record.log_index, reverse=True)
    return Sample(seed=seed, size=size, population=len(population), records=tuple(records))
