"""`gatekeeper witness`: cosign the evidence log's checkpoints, refusing any rewrite."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer

from gatekeeper import logs
from gatekeeper.cli._witness import read_key, witness_once
from gatekeeper.config import load_settings
from gatekeeper.errors import InputError, UsageError
from gatekeeper.ledger import pinned_keys

_EVERY = re.compile(r"([1-9][0-9]*)(s|m|h)?")
_UNIT_S = {"s": 1, "m": 60, "h": 3600}
_TIMEOUT_S = 30.0


def _seconds(every: str) -> int:
    match = _EVERY.fullmatch(every.strip())
    if match is None:
        raise UsageError(f"--every {every!r}: give a duration like 60s, 5m or 1h")
    return int(match[1]) * _UNIT_S[match[2] or "s"]


def witness(
    *,
    key: Annotated[Path, typer.Option("--key", help="This witness's Ed25519 private key (PEM).")],
    state: Annotated[
        Path,
        typer.Option("--state", help="State file: the last cosigned checkpoint, pinned keys."),
    ],
    service: Annotated[
        str | None,
        typer.Option("--service", help="Evidence service URL (or GATEKEEPER_SERVICE_URL)."),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", help="The witness name in its signature lines (default: key id)."),
    ] = None,
    service_key: Annotated[
        Path | None,
        typer.Option(
            "--service-key",
            help="Pin the service's public key (PEM or verifier key line); default: the state "
            "file's, or on the first run the service's current key.",
        ),
    ] = None,
    every: Annotated[
        str | None,
        typer.Option("--every", help="Run again after this long (60s, 5m, 1h) until stopped."),
    ] = None,
) -> None:
    """Cosign the log's newest checkpoint when it only grew; exit 1 otherwise, never cosigning.

    Checks the checkpoint against the last one this witness cosigned (a smaller tree, another
    root or a failed consistency proof is exit 1) and posts a C2SP cosignature/v1 of it.
    GATEKEEPER_TOKEN: a read token of the service."""
    settings = load_settings()
    url = service or settings.service_url
    if not url:
        raise UsageError("give --service URL (or set GATEKEEPER_SERVICE_URL) of the service")
    interval = _seconds(every) if every is not None else None
    signing = read_key(key)
    pinned = None
    if service_key is not None:
        try:
            pinned = pinned_keys(service_key.read_bytes())
        except OSError as error:
            raise InputError(service_key, f"cannot be read ({error.strerror})") from error
    headers = {}
    if settings.token is not None:
        logs.SECRETS.add(settings.token.get_secret_value())
        headers["Authorization"] = f"Bearer {settings.token.get_secret_value()}"
    with httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=_TIMEOUT_S) as client:
        while True:
            for line in witness_once(client, signing, name or signing.key_id, state, pinned):
                typer.echo(line)
            if interval is None:
                return
            time.sleep(interval)
