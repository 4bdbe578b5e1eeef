"""`gatekeeper log audit`: recompute every stored row of the transparency log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from gatekeeper.cli._database import say_database
from gatekeeper.config import load_settings
from gatekeeper.errors import UsageError, VerificationError
from gatekeeper.service.database import make_engine, require_current_schema
from gatekeeper.service.log_audit import AuditFinding, audit_log

log_app = typer.Typer(help="The transparency log of the evidence store.", no_args_is_help=True)


def _say(finding: AuditFinding) -> None:
    typer.echo(f"MISMATCH {finding.describe()}")


@log_app.command("audit")
def audit(
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            help="SQLAlchemy URL of the store (default: GATEKEEPER_DATABASE_URL, else the "
            "SQLite file under GATEKEEPER_DATA_DIR).",
        ),
    ] = None,
) -> None:
    """Recompute every leaf, tree node and checkpoint of the stored log; 1 on any mismatch.

    Each record's envelope is hashed to its leaf, each stored subtree hash from its children,
    each checkpoint's root from the tree and its signature checked with the signing_keys table;
    every row that does not match is named (record id, log index) on a line of its own.
    """
    settings = load_settings(database_url=database)
    say_database(settings)
    url = settings.database_url_or_default()
    if url.startswith("sqlite"):
        file = make_url(url).database
        if file and file != ":memory:" and not Path(file).is_file():
            raise UsageError(f"no database at {file}: pass --database URL or GATEKEEPER_DATA_DIR")
    engine = make_engine(url)
    try:
        require_current_schema(engine)
        report = audit_log(engine, _say)
    finally:
        engine.dispose()
    summary = (
        f"{report.size} leaves, {report.records} records, {report.nodes} tree nodes, "
        f"{report.checkpoints} checkpoints"
    )
    if not report.ok:
        raise VerificationError(f"log audit: {summary}: {report.findings} row(s) do not match")
    typer.echo(f"OK log audit: {summary}: every row matches")
