"""Witness cosignatures: each accepted C2SP cosignature/v1 of a checkpoint, one append-only row.

Creates `witness_cosignatures` and makes it append-only like `records` (triggers as in 0002).

Revision ID: 0006_witness_cosignatures
Revises: 0005
Create Date: 2026-12-03 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_witness_cosignatures"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TABLE = "witness_cosignatures"


def _protect() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, timing in (
            (f"{_TABLE}_no_update_delete", f"BEFORE UPDATE OR DELETE ON {_TABLE} FOR EACH ROW"),
            (f"{_TABLE}_no_truncate", f"BEFORE TRUNCATE ON {_TABLE} FOR EACH STATEMENT"),
        ):
            op.execute(
                f"CREATE TRIGGER {name} {timing} EXECUTE FUNCTION gatekeeper_refuse_change()"
            )
            op.execute(f"ALTER TABLE {_TABLE} ENABLE ALWAYS TRIGGER {name}")
        return
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {_TABLE}_no_{operation.lower()} BEFORE {operation} ON {_TABLE}"
            f" BEGIN SELECT RAISE(ABORT, 'gatekeeper: {operation} on {_TABLE}"
            " refused: evidence is append-only'); END"
        )
    op.execute(  # the table name is the constant above
        f"CREATE TRIGGER {_TABLE}_no_replace BEFORE INSERT ON {_TABLE}"  # noqa: S608
        f" WHEN EXISTS (SELECT 1 FROM {_TABLE} WHERE size = NEW.size"
        " AND witness_key_id = NEW.witness_key_id AND timestamp = NEW.timestamp)"
        f" BEGIN SELECT RAISE(ABORT, 'gatekeeper: replacing a row of {_TABLE} refused:"
        " evidence is append-only'); END"
    )


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("size", _BIGINT, sa.ForeignKey("checkpoints.size"), nullable=False),
        sa.Column("witness_key_id", sa.String(64), nullable=False),
        sa.Column("timestamp", _BIGINT, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("cosignature", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("size", "witness_key_id", "timestamp", name=f"pk_{_TABLE}"),
    )
    _protect()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {_TABLE}_no_update_delete ON {_TABLE}")
        op.execute(f"DROP TRIGGER IF EXISTS {_TABLE}_no_truncate ON {_TABLE}")
    else:
        for suffix in ("update", "delete", "replace"):
            op.execute(f"DROP TRIGGER IF EXISTS {_TABLE}_no_{suffix}")
    op.drop_table(_TABLE)
