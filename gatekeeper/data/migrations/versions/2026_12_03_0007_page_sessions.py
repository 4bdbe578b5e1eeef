"""Page sessions: the auditor pages' cookie holds a session id, never the read token.

A `page_sessions` row per signed-in browser: the SHA-256 of the session id, the token it was
opened with, when it was opened and when it lapses. Sign-out deletes the row; it is not
evidence, so it is not append-only.

Revision ID: 0007_page_sessions
Revises: 0006_witness_cosignatures
Create Date: 2026-12-03 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_page_sessions"
down_revision: str | None = "0006_witness_cosignatures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "page_sessions",
        sa.Column("session_sha256", sa.String(64), nullable=False),
        sa.Column(
            "token_id",
            sa.String(16),
            sa.ForeignKey("tokens.token_id", name="fk_page_sessions_token_id_tokens"),
            nullable=False,
        ),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("session_sha256", name="pk_page_sessions"),
    )
    op.create_index("ix_page_sessions_expires_at", "page_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_page_sessions_expires_at", table_name="page_sessions")
    op.drop_table("page_sessions")
