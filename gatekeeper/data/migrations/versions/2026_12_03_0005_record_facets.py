"""Record facets: what the auditor's workspace filters on, one append-only row per record.

Creates `record_facets`, fills it from the envelopes already stored, and makes it append-only
like `records` (triggers as in revision 0002).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_INDEXES = {
    "ix_record_facets_project_log_index": ("project", "log_index"),
    "ix_record_facets_log_index": ("log_index",),
    "ix_record_facets_project_verdict": ("project", "verdict", "log_index"),
    "ix_record_facets_project_waived": ("project", "waived", "log_index"),
    "ix_record_facets_project_change": ("project", "change_id", "log_index"),
    "ix_record_facets_project_kind": ("project", "kind", "log_index"),
    "ix_record_facets_project_integrated": ("project", "integrated_at", "log_index"),
}


def _create() -> sa.Table:
    return op.create_table(
        "record_facets",
        sa.Column("record_id", sa.String(36), sa.ForeignKey("records.id"), nullable=False),
        sa.Column("project", sa.String(200), nullable=False),
        sa.Column("log_index", _BIGINT, nullable=False),
        sa.Column("integrated_at", sa.String(32), nullable=False),
        sa.Column("verdict", sa.String(16)),
        sa.Column("ref", sa.String(300)),
        sa.Column("commit", sa.String(64)),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("change_id", sa.String(32)),
        sa.Column("author", sa.String(200)),
        sa.Column("policy_name", sa.String(200)),
        sa.Column("policy_digest", sa.String(64)),
        sa.Column("policy_version", sa.String(64)),
        sa.Column("waived", sa.Integer(), nullable=False),
        sa.Column("failed_rules", sa.Text(), nullable=False),
        sa.Column("waived_rules", sa.Text(), nullable=False),
        sa.Column("line_rate", sa.Float()),
        sa.Column("tests_total", sa.Integer()),
        sa.Column("tests_failed", sa.Integer()),
        sa.Column("tests_flaky", sa.Integer()),
        sa.Column("evaluated_at", sa.String(32)),
        sa.Column("approvers", sa.Text(), nullable=False),
        sa.Column("waivers", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("record_id", name="pk_record_facets"),
    )


def _backfill(table: sa.Table) -> None:
    from gatekeeper.service.workspace.facets import facets_from_envelope  # noqa: PLC0415

    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            'SELECT id, project, log_index, integrated_at, verdict, ref, "commit", envelope'
            " FROM records ORDER BY log_index"
        )
    )
    batch: list[dict[str, object]] = []
    for row in rows:
        values = dict(row._mapping)
        envelope = bytes(values.pop("envelope"))
        values["record_id"] = values.pop("id")
        batch.append(values | facets_from_envelope(envelope).columns())
        if len(batch) >= 1000:
            op.bulk_insert(table, batch)
            batch = []
    if batch:
        op.bulk_insert(table, batch)


def _protect() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, timing in (
            (
                "record_facets_no_update_delete",
                "BEFORE UPDATE OR DELETE ON record_facets FOR EACH ROW",
            ),
            ("record_facets_no_truncate", "BEFORE TRUNCATE ON record_facets FOR EACH STATEMENT"),
        ):
            op.execute(
                f"CREATE TRIGGER {name} {timing} EXECUTE FUNCTION gatekeeper_refuse_change()"
            )
            op.execute(f"ALTER TABLE record_facets ENABLE ALWAYS TRIGGER {name}")
        return
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER record_facets_no_{operation.lower()} BEFORE {operation} ON"
            f" record_facets BEGIN SELECT RAISE(ABORT, 'gatekeeper: {operation} on record_facets"
            " refused: evidence is append-only'); END"
        )
    op.execute(
        "CREATE TRIGGER record_facets_no_replace BEFORE INSERT ON record_facets"
        " WHEN EXISTS (SELECT 1 FROM record_facets WHERE record_id = NEW.record_id)"
        " BEGIN SELECT RAISE(ABORT, 'gatekeeper: replacing a row of record_facets refused:"
        " evidence is append-only'); END"
    )


def upgrade() -> None:
    table = _create()
    for name, columns in _INDEXES.items():
        op.create_index(name, "record_facets", list(columns))
    _backfill(table)
    _protect()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS record_facets_no_update_delete ON record_facets")
        op.execute("DROP TRIGGER IF EXISTS record_facets_no_truncate ON record_facets")
    else:
        for suffix in ("update", "delete", "replace"):
            op.execute(f"DROP TRIGGER IF EXISTS record_facets_no_{suffix}")
    op.drop_table("record_facets")
