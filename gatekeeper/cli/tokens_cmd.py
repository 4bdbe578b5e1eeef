"""`gatekeeper tokens create|list|revoke`: API tokens of the evidence service."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from gatekeeper.cli._database import say_database
from gatekeeper.config import Settings, load_settings
from gatekeeper.errors import UsageError
from gatekeeper.service.app import engine_for
from gatekeeper.service.auth import create_token, list_tokens, revoke_token

tokens_app = typer.Typer(help="API tokens of the evidence service.", no_args_is_help=True)


@tokens_app.command("create")
def create(
    project: Annotated[
        list[str],
        typer.Option("--project", help="owner/name (GitLab groups too); repeat for more."),
    ] = [],  # noqa: B006 - Typer reads list defaults this way
    all_projects: Annotated[
        bool, typer.Option("--all-projects", help="Bind the token to every project instead.")
    ] = False,
    scope: Annotated[
        list[str], typer.Option("--scope", help="ingest, read or admin; repeat for more.")
    ] = [],  # noqa: B006
    expires: Annotated[
        str | None, typer.Option("--expires", help="Expiry as ISO 8601 (UTC when no zone).")
    ] = None,
) -> None:
    """Create a token; it is printed once, on the last line."""
    expires_at = None
    if expires is not None:
        try:
            expires_at = datetime.fromisoformat(expires)
        except ValueError as error:
            raise UsageError(f"--expires {expires!r} is not an ISO 8601 date or time") from error
        if _as_utc(expires_at) <= datetime.now(UTC):
            raise UsageError(
                f"--expires {expires!r} is not in the future: a token must expire after it is "
                "created (or leave --expires out for a token that does not expire)"
            )
    with engine_for(_settings()) as engine:
        token, info = create_token(engine, scope, project, expires_at, all_projects=all_projects)
    typer.echo(
        f"token {info.token_id}: scopes {','.join(info.scopes)}, projects "
        f"{info.projects_text}, expires {info.expires_at or 'never'}; it is shown only now:"
    )
    typer.echo(token)


@tokens_app.command("list")
def list_() -> None:
    """List tokens (never their secrets)."""
    with engine_for(_settings()) as engine:
        tokens = list_tokens(engine)
    for info in tokens:
        state = f"revoked {info.revoked_at}" if info.revoked_at else "active"
        typer.echo(
            f"{info.token_id}  {','.join(info.scopes):<18} {info.projects_text:<30} "
            f"created {info.created_at}  expires {info.expires_at or 'never'}  {state}"
        )


@tokens_app.command("revoke")
def revoke(token_id: Annotated[str, typer.Argument(help="The id `tokens list` shows.")]) -> None:
    """Revoke a token by id."""
    with engine_for(_settings()) as engine:
        revoked = revoke_token(engine, token_id)
    if not revoked:
        raise UsageError(f"no active token has the id {token_id!r}; see `gatekeeper tokens list`")
    typer.echo(f"token {token_id} revoked")


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _settings() -> Settings:
    settings = load_settings()
    say_database(settings)
    return settings
