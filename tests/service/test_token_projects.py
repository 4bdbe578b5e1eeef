"""A token's projects are a list of rows, migrated from the joined strings of revision 0005."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from fastapi import FastAPI
from sqlalchemy import text

from gatekeeper.errors import UsageError
from gatekeeper.service.auth import authenticate, create_token, list_tokens
from gatekeeper.service.database import alembic_config, make_engine
from tests.service.conftest import bearer
from tests.service.live import ApiClient, PostgresDatabases, statement

_OLD_TOKENS = (
    # token_id, token_sha256, scopes, projects (joined, as revision 0005 kept them)
    ("aaaaaaaaaaaa", "a" * 64, "ingest", "acme/shop,group/sub/api"),
    ("bbbbbbbbbbbb", "b" * 64, "read", "*"),
    ("cccccccccccc", "c" * 64, "admin", "*"),
)


def test_token_projects_are_rows_not_a_joined_string(app: FastAPI, api: ApiClient) -> None:
    """Each bound project is its own row; the token acts on each of them and on no other."""
    engine = app.state.gatekeeper.engine
    token, info = create_token(engine, ["ingest"], ["group/sub/api", "acme/widget"])
    assert info.projects == ("acme/widget", "group/sub/api")
    assert not info.all_projects
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT project FROM token_projects WHERE token_id = :id ORDER BY project"),
            {"id": info.token_id},
        ).all()
        principal = authenticate(connection, token)
    assert [row[0] for row in rows] == ["acme/widget", "group/sub/api"]
    assert principal is not None
    assert principal.projects == frozenset({"acme/widget", "group/sub/api"})
    for project, status in (("acme/widget", 201), ("group/sub/api", 201), ("other/x", 403)):
        body = {"project": project, "statement": statement(status, project=project)}
        sent = api.post("/v1/evidence", json=body, headers=bearer(token))
        assert sent.status_code == status, sent.text
    assert [t.projects for t in list_tokens(engine)] == [info.projects]


def test_all_projects_is_a_column_and_star_is_not_a_project(app: FastAPI) -> None:
    """`all_projects` binds every project with no rows; a `*` project name is refused."""
    engine = app.state.gatekeeper.engine
    token, info = create_token(engine, ["read"], [], all_projects=True)
    assert info.all_projects
    assert info.projects == ()
    assert info.projects_text == "all projects"
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM token_projects")).scalar() == 0
        principal = authenticate(connection, token)
    assert principal is not None
    assert principal.projects is None
    with pytest.raises(UsageError, match="use --all-projects"):
        create_token(engine, ["read"], ["*"])
    with pytest.raises(UsageError, match="not both"):
        create_token(engine, ["read"], ["acme/widget"], all_projects=True)


def _migrate_old_tokens(url: str) -> list[tuple[str, bool, tuple[str, ...]]]:
    engine = make_engine(url)
    try:
        config = alembic_config(engine)
        command.upgrade(config, "0007_page_sessions")
        with engine.begin() as connection:
            for token_id, digest, scopes, projects in _OLD_TOKENS:
                connection.execute(
                    text(
                        "INSERT INTO tokens (token_id, token_sha256, scopes, projects, created_at)"
                        " VALUES (:id, :digest, :scopes, :projects, '2026-12-01T00:00:00Z')"
                    ),
                    {"id": token_id, "digest": digest, "scopes": scopes, "projects": projects},
                )
        command.upgrade(config, "head")
        migrated = [(t.token_id, t.all_projects, t.projects) for t in list_tokens(engine)]
        command.downgrade(config, "0007_page_sessions")
        with engine.connect() as connection:
            back = connection.execute(text("SELECT projects FROM tokens ORDER BY token_id")).all()
        assert [row[0] for row in back] == [old[3] for old in _OLD_TOKENS]
        return migrated
    finally:
        engine.dispose()


_MIGRATED = [
    ("aaaaaaaaaaaa", False, ("acme/shop", "group/sub/api")),
    ("bbbbbbbbbbbb", True, ()),
    ("cccccccccccc", True, ()),
]


def test_migration_turns_joined_projects_into_rows_on_sqlite(tmp_path: Path) -> None:
    """Revision 0006 on SQLite: joined names become rows, `*` becomes all_projects, and the
    downgrade gives back the joined strings."""
    assert _migrate_old_tokens(f"sqlite:///{tmp_path / 'old.db'}") == _MIGRATED


@pytest.mark.postgres
def test_migration_turns_joined_projects_into_rows_on_postgres(
    postgres: PostgresDatabases,
) -> None:
    """Revision 0006 on PostgreSQL: the same rows and the same way back."""
    assert _migrate_old_tokens(postgres.fresh(migrated=False)) == _MIGRATED
