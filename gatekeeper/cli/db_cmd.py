"""`gatekeeper db upgrade|current`: the schema migrations of the evidence store."""

from __future__ import annotations

import typer

from gatekeeper.config import load_settings
from gatekeeper.service.database import current_revision, head_revision, make_engine
from gatekeeper.service.database import upgrade as run_upgrade

db_app = typer.Typer(help="Database schema of the evidence store.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade() -> None:
    """Apply every pending migration (GATEKEEPER_DATABASE_URL, or SQLite under the data dir)."""
    settings = load_settings()
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
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
    engine = make_engine(settings.database_url_or_default())
    typer.echo(f"database: {current_revision(engine) or 'empty'}; newest: {head_revision()}")
    engine.dispose()
