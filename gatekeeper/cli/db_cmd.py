"""`gatekeeper db upgrade|current|backup`: schema migrations and backups of the evidence store."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Annotated

import typer

from gatekeeper.cli._database import say_database
from gatekeeper.config import load_settings
from gatekeeper.errors import ServiceError, UsageError
from gatekeeper.service.database import (
    current_revision,
    head_revision,
    is_sqlite,
    make_data_dir,
    make_engine,
)
from gatekeeper.service.database import upgrade as run_upgrade

db_app = typer.Typer(
    help="Database schema and backups of the evidence store.", no_args_is_help=True
)


@db_app.command("upgrade")
def upgrade() -> None:
    """Apply every pending migration (GATEKEEPER_DATABASE_URL, or SQLite under the data dir)."""
    settings = load_settings()
    say_database(settings)
    if settings.database_url is None:
        make_data_dir(settings.data_dir)
    engine = make_engine(settings.database_url_or_default())
    before, after = run_upgrade(engine)
    engine.dispose()
    if before == after:
        typer.echo(f"database schema already at {after}")
    else:
        typer.echo(f"database schema upgraded from {before or 'nothing'} to {after}")


@db_app.command("current")
def current() -> None:
    """Print the schema revision of the database and the newest one this version ships."""
    settings = load_settings()
    say_database(settings)
    engine = make_engine(settings.database_url_or_default())
    typer.echo(f"database: {current_revision(engine) or 'empty'}; newest: {head_revision()}")
    engine.dispose()


@db_app.command("backup")
def backup(
    file: Annotated[Path, typer.Argument(help="New file for the copy (must not exist).")],
) -> None:
    """Copy the SQLite database to FILE while the service runs (SQLite online backup API).
    For PostgreSQL use `pg_dump` (docs/service.md, "Backup and restore")."""
    settings = load_settings()
    say_database(settings)
    engine = make_engine(settings.database_url_or_default())
    try:
        if not is_sqlite(engine):
            raise UsageError(
                "`db backup` copies SQLite databases; for PostgreSQL use "
                "`pg_dump --format=custom` (see docs/service.md, Backup and restore)"
            )
        try:
            descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError as error:
            raise UsageError(f"{file} exists; give a new file for the backup") from error
        except OSError as error:
            raise UsageError(f"cannot create {file}: {error.strerror}") from error
        os.close(descriptor)
        try:
            _sqlite_backup(engine.raw_connection().driver_connection, file)
        except BaseException:
            file.unlink(missing_ok=True)
            raise
    finally:
        engine.dispose()
    typer.echo(f"backup written to {file}")


def _sqlite_backup(source: object, file: Path) -> None:
    if not isinstance(source, sqlite3.Connection):  # pragma: no cover - the engine is SQLite
        raise ServiceError("the SQLite engine did not give a sqlite3 connection")
    target = sqlite3.connect(file)
    try:
        source.backup(target)
    except sqlite3.Error as error:
        raise ServiceError(f"backup to {file} failed: {error}") from error
    finally:
        target.close()
        source.close()
