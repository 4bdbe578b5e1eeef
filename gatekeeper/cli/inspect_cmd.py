"""`gatekeeper inspect`: parse report files and print the facts they give."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from connectors.files import collect_report_facts
from gatekeeper.cli import _output
from gatekeeper.config import load_settings
from gatekeeper.errors import UsageError


def inspect(
    paths: Annotated[
        list[str], typer.Argument(help="Report files, directories or globs; several files merge.")
    ],
    diff: Annotated[
        Path | None, typer.Option("--diff", help="Unified diff: adds patch coverage.")
    ] = None,
    base: Annotated[
        str | None, typer.Option("--base", help="Git ref: patch coverage against merge-base.")
    ] = None,
    output_format: Annotated[
        _output.FactsFormat, typer.Option("--format", help="Output format.")
    ] = _output.FactsFormat.text,
) -> None:
    """Parse test and coverage reports (format found from content) and print their facts."""
    if diff is not None and base is not None:
        raise UsageError("give either --diff FILE or --base REF, not both")
    settings = load_settings()
    facts = collect_report_facts(paths, diff=diff, base=base, settings=settings)
    _output.print_facts(facts, output_format)
