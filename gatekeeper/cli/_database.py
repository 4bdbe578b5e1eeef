"""The line every database command prints first (stderr): which database it uses."""

from __future__ import annotations

import typer

from gatekeeper.config import Settings
from gatekeeper.service.database import masked_url


def say_database(settings: Settings) -> None:
    """Prints `database: URL` (password masked) on stderr, so a wrong or missing
    GATEKEEPER_DATABASE_URL shows at once instead of silently using another store."""
    typer.echo(f"database: {masked_url(settings.database_url_or_default())}", err=True)
