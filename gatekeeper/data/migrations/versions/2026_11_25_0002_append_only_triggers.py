"""Append-only triggers: the database refuses to change or remove evidence.

PostgreSQL: one function raising an error, row triggers on UPDATE and DELETE and a statement
trigger on TRUNCATE, each `ENABLE ALWAYS` so `session_replication_role = replica` does not skip
them. SQLite: BEFORE UPDATE and BEFORE DELETE triggers, and a BEFORE INSERT trigger refusing a
row whose key already exists, because `INSERT OR REPLACE` deletes the old row without firing the
DELETE trigger (unless `recursive_triggers` is on, which a writer may not set).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 18:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("records", "log_leaves", "tree_nodes", "checkpoints")

_SQLITE_KEYS = {
    "records": "id = NEW.id OR log_index = NEW.log_index"
    " OR (project = NEW.project AND statement_sha256 = NEW.statement_sha256)",
    "log_leaves": "leaf_index = NEW.leaf_index OR record_id = NEW.record_id",
    "tree_nodes": "level = NEW.level AND node_index = NEW.node_index",
    "checkpoints": "size = NEW.size",
}

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION gatekeeper_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'gatekeeper: % on % refused: evidence is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""


def _upgrade_postgresql() -> None:
    op.execute(_PG_FUNCTION)
    for table in _TABLES:
        for name, timing in (
            (f"{table}_no_update_delete", "BEFORE UPDATE OR DELETE ON {t} FOR EACH ROW"),
            (f"{table}_no_truncate", "BEFORE TRUNCATE ON {t} FOR EACH STATEMENT"),
        ):
            op.execute(
                f"CREATE TRIGGER {name} {timing.format(t=table)} "
                "EXECUTE FUNCTION gatekeeper_refuse_change()"
            )
            op.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {name}")


def _upgrade_sqlite() -> None:
    for table in _TABLES:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'gatekeeper: {operation} on {table} refused: "
                "evidence is append-only'); END"
            )
        op.execute(  # table names and keys are the constants above
            f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} "  # noqa: S608
            f"WHEN EXISTS (SELECT 1 FROM {table} WHERE {_SQLITE_KEYS[table]}) "
            f"BEGIN SELECT RAISE(ABORT, 'gatekeeper: replacing a row of {table} refused: "
            "evidence is append-only'); END"
        )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in _TABLES:
        if postgresql:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        else:
            for suffix in ("update", "delete", "replace"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{suffix}")
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS gatekeeper_refuse_change()")
