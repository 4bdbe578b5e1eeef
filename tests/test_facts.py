"""The evidence model's help for missing facts: which input provides a fact."""

from __future__ import annotations

from gatekeeper.facts import provided_by


def test_the_most_specific_section_names_the_input() -> None:
    """A patch-coverage fact points at the diff, not at a plain coverage report."""
    assert provided_by("coverage.patch.rate") == "a coverage report plus --diff FILE or --base REF"
    assert provided_by("coverage.line_rate").startswith("a coverage report (Cobertura")


def test_a_fact_outside_every_section_gets_the_general_advice() -> None:
    """A name no source is known for still gets a sentence, not an error or an empty string."""
    assert provided_by("release.tag") == "a source that provides it"
    assert provided_by("") == "a source that provides it"
