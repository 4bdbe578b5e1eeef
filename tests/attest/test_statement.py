"""The in-toto Statement v1: building, canonical bytes, strict parsing with clear sentences."""

from __future__ import annotations

import json

import pytest

from gatekeeper.attest.statement import (
    PREDICATE_TYPE,
    STATEMENT_TYPE,
    StatementError,
    build_statement,
    parse_statement,
    statement_bytes,
)

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def test_built_statements_have_the_in_toto_shape() -> None:
    """A built statement carries _type, the repository + commit subject and our predicate type."""
    statement = build_statement("acme/widgets", COMMIT, {"verdict": "pass"})
    value = json.loads(statement_bytes(statement))
    assert value == {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": "acme/widgets", "digest": {"gitCommit": COMMIT}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {"verdict": "pass"},
    }


def test_statement_bytes_are_canonical_and_round_trip() -> None:
    """The bytes are RFC 8785 canonical and parse back to an equal statement."""
    statement = build_statement("acme/widgets", COMMIT, {"z": 1, "a": [1.5, "é"]})
    data = statement_bytes(statement)
    assert data.startswith(b'{"_type":"https://in-toto.io/Statement/v1","predicate":{"a":')
    assert parse_statement(data) == statement


@pytest.mark.parametrize(
    ("data", "sentence"),
    [
        (b"[]", "the JSON is not an object"),
        (b"{", "invalid JSON at line 1"),
        (b'{"_type": "x", "_type": "y"}', "duplicate key '_type'"),
        (b'{"_type": "https://in-toto.io/Statement/v0.1"}', "_type: must be"),
        (
            b'{"_type": "https://in-toto.io/Statement/v1", "subject": [], '
            b'"predicateType": "p", "predicate": {}}',
            "subject: Tuple should have at least 1 item",
        ),
        (
            b'{"_type": "https://in-toto.io/Statement/v1", '
            b'"subject": [{"name": "r", "digest": {"gitCommit": "XYZ"}}], '
            b'"predicateType": "p", "predicate": {}}',
            "subject.0.digest: gitCommit must be 40 or 64 lowercase hex",
        ),
        (
            b'{"_type": "https://in-toto.io/Statement/v1", '
            b'"subject": [{"name": "r", "digest": {"sha256": "ABC"}}], '
            b'"predicateType": "p", "predicate": {}}',
            "digest 'sha256' must be lowercase hex",
        ),
        (
            b'{"_type": "https://in-toto.io/Statement/v1", '
            b'"subject": [{"name": "r", "digest": {"sha256": "ab"}}], '
            b'"predicateType": "p", "predicate": {}, "extra": 1}',
            "extra: Extra inputs are not permitted",
        ),
        (
            b'{"_type": "https://in-toto.io/Statement/v1", "predicate": 5}',
            "subject: Field required (and 2 more problems)",
        ),
    ],
)
def test_bad_statements_get_one_clear_sentence(data: bytes, sentence: str) -> None:
    """Each kind of wrong statement is refused with a sentence naming the field."""
    with pytest.raises(StatementError) as caught:
        parse_statement(data)
    assert str(caught.value).startswith("not an in-toto Statement v1: ")
    assert sentence in str(caught.value)


def test_statement_is_frozen() -> None:
    """Statements are immutable values."""
    statement = build_statement("acme/widgets", COMMIT, {})
    with pytest.raises(ValueError, match="frozen"):
        statement.predicateType = "other"  # type: ignore[misc]
