"""`gatekeeper submit --spool DIR`: send the statements `evaluate --spool` kept, exactly once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gatekeeper.cli import _spool
from gatekeeper.cli._submit import receipt_line, submit
from gatekeeper.config import load_settings
from gatekeeper.errors import EvidenceNotStoredError, EvidenceRefusedError, UsageError


def submit_command(
    spool: Annotated[
        Path, typer.Option("--spool", help="The folder `evaluate --submit URL --spool DIR` kept.")
    ],
    service: Annotated[
        str | None,
        typer.Option("--service", help="Evidence service URL (or GATEKEEPER_SERVICE_URL)."),
    ] = None,
) -> None:
    """Send the statements `evaluate --spool` kept to the evidence service.

    Each stored one is removed; a refused one stays, with the reason in NAME.refused. The
    service keeps one record per statement, so a statement sent twice (an earlier run stopped
    after storing) is stored once. Exit 0 when all are stored, 3 when the service could not be
    reached (the rest stay), 1 when some were refused."""
    settings = load_settings()
    url = service or settings.service_url or settings.submit_url
    if not url:
        raise UsageError("give --service URL (or set GATEKEEPER_SERVICE_URL) to send the spool to")
    if settings.token is None:
        raise UsageError("set GATEKEEPER_TOKEN to an ingest token of the evidence service")
    token = settings.token.get_secret_value()
    waiting = _spool.waiting(spool)
    stored = refused = 0
    for path in waiting:
        project, statement = _spool.read(path)
        try:
            receipt = submit(url, token, settings, statement, project=project)
        except EvidenceRefusedError as error:
            beside = _spool.mark_refused(path, str(error))
            typer.echo(f"{path}: refused, kept with the reason in {beside}: {error}")
            refused += 1
            continue
        except EvidenceNotStoredError as error:
            left = len(waiting) - stored - refused
            raise EvidenceNotStoredError(
                f"{error}; {stored} sent, {left} still in {spool}: run `gatekeeper submit` again"
            ) from error
        path.unlink()
        typer.echo(f"{path.name}: {receipt_line(receipt, url)}")
        stored += 1
    earlier = len(_spool.refused(spool)) - refused
    tail = f"; {earlier} refused earlier stay there" if earlier > 0 else ""
    typer.echo(f"sent {stored} of {len(waiting)} from {spool}, {refused} refused{tail}")
    raise typer.Exit(1 if refused else 0)
