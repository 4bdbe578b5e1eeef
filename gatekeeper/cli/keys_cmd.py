"""`gatekeeper keys rotate|list`: the signing keys of the evidence service."""

from __future__ import annotations

import typer

from gatekeeper.cli._database import say_database
from gatekeeper.config import Settings, load_settings
from gatekeeper.service.app import engine_for
from gatekeeper.service.keyring import published_keys
from gatekeeper.service.keyring import rotate as rotate_key

keys_app = typer.Typer(help="Signing keys of the evidence service.", no_args_is_help=True)


@keys_app.command("rotate")
def rotate() -> None:
    """Start a new signing key; old keys stay published; running services sign with it next."""
    settings = _settings()
    with engine_for(settings) as engine:
        key = rotate_key(engine, settings.data_dir)
    typer.echo(f"new signing key {key.key_id}")


@keys_app.command("list")
def list_() -> None:
    """List the published keys, current and retired."""
    with engine_for(_settings()) as engine, engine.connect() as connection:
        for key in published_keys(connection):
            state = f"retired {key.retired_at}" if key.retired_at else "current"
            typer.echo(f"{key.key_id}  created {key.created_at}  {state}")


def _settings() -> Settings:
    settings = load_settings()
    say_database(settings)
    return settings
