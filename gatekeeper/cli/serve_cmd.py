"""`gatekeeper serve`: run the evidence service with uvicorn."""

from __future__ import annotations

import os
import tempfile
from typing import Annotated

import typer
import uvicorn

from gatekeeper.cli._database import say_database
from gatekeeper.config import load_settings
from gatekeeper.service.app import create_app
from gatekeeper.service.middleware import MULTIPROC_ENV, configure_json_logging


def serve(
    host: Annotated[str | None, typer.Option("--host", help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port to listen on.")] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Worker processes (PostgreSQL or SQLite WAL).")
    ] = 1,
) -> None:
    """Serve the evidence API (SQLite under GATEKEEPER_DATA_DIR, or GATEKEEPER_DATABASE_URL)."""

    settings = load_settings(host=host, port=port)
    say_database(settings)
    configure_json_logging()
    if workers > 1:
        create_app(settings)  # checks schema and key once before the workers start
        # every worker writes its metrics into one fresh folder; /metrics sums them
        with tempfile.TemporaryDirectory(prefix="gatekeeper-metrics-") as metrics_dir:
            os.environ[MULTIPROC_ENV] = metrics_dir
            uvicorn.run(
                "gatekeeper.service.app:app_from_environment",
                factory=True,
                host=settings.host,
                port=settings.port,
                workers=workers,
                log_config=None,
                access_log=False,
            )
        return
    app = create_app(settings)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False)
