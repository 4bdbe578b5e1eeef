"""`gatekeeper inspect`: parse report files and print the facts they give."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from connectors.files import Inventory, collect_report_facts
from gatekeeper import logs
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
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="List each file that is not a report and each report path the diff misses.",
        ),
    ] = False,
) -> None:
    """Parse test and coverage reports (format found from content) and print their facts.

    Over a folder (`inspect .`), files that are not reports are one summary line."""
    if diff is not None and base is not None:
        raise UsageError("give either --diff FILE or --base REF, not both")
    if verbose:
        logs.configure(1)
    settings = load_settings()
    inventory = Inventory()
    facts = collect_report_facts(
        paths, diff=diff, base=base, settings=settings, inventory=inventory
    )
    _output.print_facts(
        facts, output_format, verbose=verbose, uncovered_changes=inventory.uncovered_changes
    )
