"""The in-toto Statement v1: building, canonical bytes, strict parsing with clear sentences."""

from __future__ import annotations

import json

import pytest
from google.protobuf import json_format
from in_toto_attestation.v1.resource_descriptor import ResourceDescriptor
from in_toto_attestation.v1.statement import Statement as IntotoStatement

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


def test_subjects_other_tools_write_are_read_as_the_spec_allows() -> None:
    """A statement built with the in-toto-attestation package (uri, annotations, mediaType,
    name `_`) parses; its identifiers are the uri (and a meaningful name); its bytes round trip."""
    subjects = [
        ResourceDescriptor(
            name="_",
            uri="git+https://github.com/acme/widgets",
            digest={"gitCommit": COMMIT},
            media_type="text/x-git",
            annotations={"ref": "refs/heads/main"},
        ).pb,
        ResourceDescriptor(name="acme/widgets", digest={"sha256": "ab" * 32}).pb,
    ]
    made = IntotoStatement(subjects, PREDICATE_TYPE, {"verdict": "pass"})
    made.validate()
    parsed = parse_statement(json.dumps(json_format.MessageToDict(made.pb)).encode())
    assert [s.identifiers for s in parsed.subject] == [
        ("git+https://github.com/acme/widgets",),
        ("acme/widgets",),
    ]
    assert parsed.subject[0].annotations == {"ref": "refs/heads/main"}
    assert json.loads(statement_bytes(parsed))["subject"][0] == {
        "name": "_",
        "uri": "git+https://github.com/acme/widgets",
        "digest": {"gitCommit": COMMIT},
        "mediaType": "text/x-git",
        "annotations": {"ref": "refs/heads/main"},
    }
    assert parse_statement(statement_bytes(parsed)) == parsed
