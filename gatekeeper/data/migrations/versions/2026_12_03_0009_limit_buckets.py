"""Limit buckets: the request limits' counters, shared by every process and host.

A `limit_buckets` row per limited key (a token id under `per_token`, a client address under
`failures`): the events left and the wall time they were counted at. Counters change on every
event and full ones are deleted: they are not evidence, so the table is not append-only.

Revision ID: 0009_limit_buckets
Revises: 0008_token_projects
Create Date: 2026-12-03 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_limit_buckets"
down_revision: str | None = "0008_token_projects"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "limit_buckets",
        sa.Column("bucket", sa.String(16), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "key", name="pk_limit_buckets"),
    )


def downgrade() -> None:
    op.drop_table("limit_buckets")
