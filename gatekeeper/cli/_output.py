"""Printing shared by the commands."""

from __future__ import annotations

import enum
import json

import typer

from gatekeeper.facts import Facts


class FactsFormat(enum.StrEnum):
    text = "text"
    json = "json"


def print_facts(
    facts: Facts,
    output_format: FactsFormat,
    *,
    verbose: bool = False,
    uncovered_changes: tuple[str, ...] | None = None,
) -> None:
    """Facts as JSON (one object) or as text for a person (details with `verbose`)."""
    if output_format is FactsFormat.json:
        typer.echo(json.dumps(facts.to_json_dict(), indent=2, sort_keys=False))
    else:
        # Imported here: the render package pulls in the policy engine and Rich, which JSON
        # output (what CI scripts and the benchmark use) never needs.
        from gatekeeper.render.facts_text import facts_as_text  # noqa: PLC0415

        typer.echo(facts_as_text(facts, verbose=verbose, uncovered_changes=uncovered_changes))
