"""Published policies: the versions a project's evidence may be judged by (append-only).

A `policies` row per published version (project, digest of the document's canonical JSON, the
document, who published it, when, a note), keyed by the signed record the publication is in the
log as. The same append-only triggers as the evidence tables (0002) guard it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 11:55:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION gatekeeper_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'gatekeeper: % on % refused: evidence is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""


def _triggers_postgresql() -> None:
    op.execute(_PG_FUNCTION)
    for name, timing in (
        ("policies_no_update_delete", "BEFORE UPDATE OR DELETE ON policies FOR EACH ROW"),
        ("policies_no_truncate", "BEFORE TRUNCATE ON policies FOR EACH STATEMENT"),
    ):
        op.execute(f"CREATE TRIGGER {name} {timing} EXECUTE FUNCTION gatekeeper_refuse_change()")
        op.execute(f"ALTER TABLE policies ENABLE ALWAYS TRIGGER {name}")


def _triggers_sqlite() -> None:
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER policies_no_{operation.lower()} BEFORE {operation} ON policies "
            f"BEGIN SELECT RAISE(ABORT, 'gatekeeper: {operation} on policies refused: "
            "evidence is append-only'); END"
        )
    op.execute(
        "CREATE TRIGGER policies_no_replace BEFORE INSERT ON policies "
        "WHEN EXISTS (SELECT 1 FROM policies WHERE record_id = NEW.record_id "
        "OR (project = NEW.project AND digest = NEW.digest)) "
        "BEGIN SELECT RAISE(ABORT, 'gatekeeper: replacing a row of policies refused: "
        "evidence is append-only'); END"
    )


def upgrade() -> None:
    op.create_table(
        "policies",
        sa.Column("record_id", sa.String(36), sa.ForeignKey("records.id"), nullable=False),
        sa.Column("project", sa.String(200), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("published_by", sa.String(300), nullable=False),
        sa.Column("published_at", sa.String(32), nullable=False),
        sa.Column("note", sa.String(1000), nullable=True),
        sa.PrimaryKeyConstraint("record_id", name="pk_policies"),
    )
    op.create_index("ix_policies_project_digest", "policies", ["project", "digest"], unique=True)
    if op.get_bind().dialect.name == "postgresql":
        _triggers_postgresql()
    else:
        _triggers_sqlite()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS policies_no_update_delete ON policies")
        op.execute("DROP TRIGGER IF EXISTS policies_no_truncate ON policies")
    else:
        for suffix in ("update", "delete", "replace"):
            op.execute(f"DROP TRIGGER IF EXISTS policies_no_{suffix}")
    op.drop_index("ix_policies_project_digest", table_name="policies")
    op.drop_table("policies")
