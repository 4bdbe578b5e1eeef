"""`gatekeeper keys rotate|list`: the signing keys of the evidence service."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gatekeeper.attest.keys import KeyFormatError, SigningKey
from gatekeeper.cli._database import say_database
from gatekeeper.config import Settings, load_settings
from gatekeeper.errors import InputError
from gatekeeper.service.app import engine_for
from gatekeeper.service.keyring import published_keys
from gatekeeper.service.keyring import rotate as rotate_key

keys_app = typer.Typer(help="Signing keys of the evidence service.", no_args_is_help=True)


@keys_app.command("rotate")
def rotate(
    new_key: Annotated[
        Path | None,
        typer.Option(
            "--new-key",
            help="The new Ed25519 private key (PEM), e.g. the next mounted secret; "
            "default: a fresh key under the data dir.",
        ),
    ] = None,
) -> None:
    """Start a new signing key: the log records the transition, signed by the old key and the
    new one; old keys stay published; running services sign with the new key from their next
    append."""
    settings = _settings()
    key = _read_key(new_key) if new_key is not None else None
    with engine_for(settings) as engine:
        with engine.connect() as connection:
            before = published_keys(connection)
        made = rotate_key(
            engine,
            settings.data_dir,
            settings.log_origin,
            key_file=settings.signing_key_file,
            new_key=key,
        )
    if before:
        typer.echo(f"key transition logged: {made.key_id} is the current signing key")
    else:
        typer.echo(f"first signing key {made.key_id}")


def _read_key(path: Path) -> SigningKey:
    try:
        return SigningKey.from_private_pem(path.read_bytes())
    except OSError as error:
        raise InputError(path, f"cannot be read ({error.strerror or error})") from error
    except KeyFormatError as error:
        raise InputError(path, f"is not an Ed25519 private key in PEM ({error})") from error


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
