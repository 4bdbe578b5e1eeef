"""Saved facts files (`--facts`): the inspect JSON loads back; bad files name file:line:col."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.facts_file import load_facts_file
from gatekeeper.errors import FactsError
from tests.policy._helpers import facts, failing_tests


def test_round_trip_of_the_json_shape(tmp_path: Path) -> None:
    """Facts written as `inspect --format json` prints them load back equal, source added."""
    given = facts(tests=failing_tests(2)).model_copy(update={"missing": {"reviews": "no provider"}})
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(given.to_json_dict()), encoding="utf-8")
    loaded = load_facts_file(path)
    assert loaded.tests == given.tests
    assert loaded.missing == {"reviews": "no provider"}
    assert loaded.sources[-1].kind == "facts-file"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"tests": {\n  "total": 1,,\n}', ":2:14: invalid JSON: Expecting property name"),
        ('{"tests": {}, "tests": {}}', ": invalid JSON: duplicate key 'tests'"),
        ("[1, 2]", ":1:1: a facts file must hold one JSON object"),
        ('{"tests": {"total": -1}}', ": tests.total: Input should be greater than or equal to 0"),
        ('{"coverag": {}}', ": coverag: Extra inputs are not permitted"),
    ],
)
def test_bad_facts_files(tmp_path: Path, text: str, expected: str) -> None:
    """Each kind of bad facts file is one FactsError naming the file and the place."""
    path = tmp_path / "facts.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FactsError) as caught:
        load_facts_file(path)
    assert str(caught.value).startswith(f"{path}{expected}")


def test_unreadable_facts_file(tmp_path: Path) -> None:
    """A facts path that does not exist is a FactsError."""
    with pytest.raises(FactsError, match="cannot read"):
        load_facts_file(tmp_path / "nope.json")
