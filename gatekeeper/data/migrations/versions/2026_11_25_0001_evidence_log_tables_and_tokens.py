"""Evidence log tables and tokens: records, log leaves, tree nodes, checkpoints, keys, tokens.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 18:21:46.584342
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("algorithm", sa.String(length=16), nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("retired_at", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_signing_keys")),
    )
    op.create_table(
        "tokens",
        sa.Column("token_id", sa.String(length=16), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.String(length=64), nullable=False),
        sa.Column("projects", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.String(length=32), nullable=True),
        sa.Column("revoked_at", sa.String(length=32), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_tokens")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_tokens_token_sha256")),
    )
    op.create_table(
        "tree_nodes",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column(
            "node_index",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "node_index", name=op.f("pk_tree_nodes")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "checkpoints",
        sa.Column(
            "size",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"], ["signing_keys.key_id"], name=op.f("fk_checkpoints_key_id_signing_keys")
        ),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_checkpoints")),
    )
    op.create_table(
        "records",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column(
            "log_index", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("leaf_hash", sa.String(length=64), nullable=False),
        sa.Column("integrated_at", sa.String(length=32), nullable=False),
        sa.Column("statement_sha256", sa.String(length=64), nullable=False),
        sa.Column("envelope", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("repo", sa.String(length=300), nullable=True),
        sa.Column("commit", sa.String(length=64), nullable=True),
        sa.Column("ref", sa.String(length=300), nullable=True),
        sa.Column("verdict", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["key_id"], ["signing_keys.key_id"], name=op.f("fk_records_key_id_signing_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records")),
        sa.UniqueConstraint("log_index", name=op.f("uq_records_log_index")),
    )
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_records_project_commit", ["project", "commit", "log_index"], unique=False
        )
        batch_op.create_index(
            "ix_records_project_integrated", ["project", "integrated_at", "log_index"], unique=False
        )
        batch_op.create_index(
            "ix_records_project_log_index", ["project", "log_index"], unique=False
        )
        batch_op.create_index(
            "ix_records_project_verdict", ["project", "verdict", "log_index"], unique=False
        )
        batch_op.create_index(
            "uq_records_project_statement", ["project", "statement_sha256"], unique=True
        )

    op.create_table(
        "log_leaves",
        sa.Column(
            "leaf_index",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_log_leaves_record_id_records")
        ),
        sa.PrimaryKeyConstraint("leaf_index", name=op.f("pk_log_leaves")),
        sa.UniqueConstraint("record_id", name=op.f("uq_log_leaves_record_id")),
    )


def downgrade() -> None:
    op.drop_table("log_leaves")
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_index("uq_records_project_statement")
        batch_op.drop_index("ix_records_project_verdict")
        batch_op.drop_index("ix_records_project_log_index")
        batch_op.drop_index("ix_records_project_integrated")
        batch_op.drop_index("ix_records_project_commit")

    op.drop_table("records")
    op.drop_table("checkpoints")
    op.drop_table("tree_nodes")
    op.drop_table("tokens")
    op.drop_table("signing_keys")
