"""Receipts kept with records: the inclusion proof to the checkpoint signed by the append.

Queries answer each record's receipt without recomputing proofs: the proof of leaf i to the
checkpoint of size i + 1, computed in the append transaction. (ADD COLUMN fires no trigger.)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 19:25:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("records", sa.Column("inclusion_proof", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.drop_column("inclusion_proof")
