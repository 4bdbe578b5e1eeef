"""Printing shared by the commands."""

from __future__ import annotations

import enum
import json

import typer

from gatekeeper.facts import Facts
from gatekeeper.render.facts_text import facts_as_text


class FactsFormat(enum.StrEnum):
    text = "text"
    json = "json"


def print_facts(facts: Facts, output_format: FactsFormat) -> None:
    """Facts as JSON (one object) or as text for a person."""
    if output_format is FactsFormat.json:
        typer.echo(json.dumps(facts.to_json_dict(), indent=2, sort_keys=False))
    else:
        typer.echo(facts_as_text(facts))
