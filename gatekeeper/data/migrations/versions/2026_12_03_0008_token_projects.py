"""Token projects as a list: one `token_projects` row per project a token is bound to.

Before, `tokens.projects` held the names joined by commas, and `*` meant every project. Now a
token bound to every project says so in `tokens.all_projects`; the others have a row per project
in `token_projects`. The rows are filled from the joined strings, which are then dropped.

Revision ID: 0008_token_projects
Revises: 0007_page_sessions
Create Date: 2026-12-03 13:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_token_projects"
down_revision: str | None = "0007_page_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_EVERY_PROJECT = "*"


def upgrade() -> None:
    bind = op.get_bind()
    joined = bind.execute(sa.text("SELECT token_id, projects FROM tokens")).all()
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(
            sa.Column("all_projects", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.drop_column("projects")
    token_projects = op.create_table(
        "token_projects",
        sa.Column("token_id", sa.String(16), sa.ForeignKey("tokens.token_id"), nullable=False),
        sa.Column("project", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("token_id", "project", name="pk_token_projects"),
    )
    rows: list[dict[str, str]] = []
    for token_id, projects in joined:
        names = sorted({name for name in str(projects).split(",") if name})
        if _OLD_EVERY_PROJECT in names:
            bind.execute(
                sa.text("UPDATE tokens SET all_projects = :yes WHERE token_id = :token_id"),
                {"yes": True, "token_id": token_id},
            )
        else:
            rows.extend({"token_id": token_id, "project": name} for name in names)
    if rows:
        op.bulk_insert(token_projects, rows)


def downgrade() -> None:
    bind = op.get_bind()
    bound = bind.execute(sa.text("SELECT token_id, project FROM token_projects")).all()
    every = bind.execute(sa.text("SELECT token_id, all_projects FROM tokens")).all()
    joined: dict[str, list[str]] = {token_id: [] for token_id, _all in every}
    for token_id, project in bound:
        joined[token_id].append(project)
    op.drop_table("token_projects")
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("projects", sa.Text(), nullable=False, server_default=""))
        batch.drop_column("all_projects")
    for token_id, all_projects in every:
        value = _OLD_EVERY_PROJECT if all_projects else ",".join(sorted(joined[token_id]))
        bind.execute(
            sa.text("UPDATE tokens SET projects = :projects WHERE token_id = :token_id"),
            {"projects": value, "token_id": token_id},
        )
