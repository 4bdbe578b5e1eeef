"""Canonical JSON (RFC 8785) and the strict reader that refuses ambiguous JSON."""

from __future__ import annotations

import json

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from gatekeeper.attest.canonical import (
    MAX_SAFE_INTEGER,
    CanonicalJSONError,
    canonical_json,
    canonical_json_of_strings,
    strict_json_loads,
)


def test_duplicate_keys_are_refused() -> None:
    """An object with the same key twice is refused, naming the key."""
    with pytest.raises(CanonicalJSONError, match="duplicate key 'a'"):
        strict_json_loads(b'{"a": 1, "b": {"a": 2}, "a": 3}')


def test_nested_duplicate_keys_are_refused() -> None:
    """A duplicate key deep inside is refused too."""
    with pytest.raises(CanonicalJSONError, match="duplicate key 'x'"):
        strict_json_loads('[{"y": {"x": 1, "x": 1}}]')


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}'])
def test_nan_and_infinity_are_refused(text: str) -> None:
    """NaN and ±Infinity are not JSON numbers and are refused."""
    with pytest.raises(CanonicalJSONError, match="not a JSON number"):
        strict_json_loads(text)


def test_overflowing_floats_are_refused() -> None:
    """A number too large for a double is refused rather than read as infinity."""
    with pytest.raises(CanonicalJSONError, match="too large"):
        strict_json_loads("1e400")


def test_integers_beyond_2_53_are_refused() -> None:
    """Integers beyond 2^53-1 are refused on reading and writing; 2^53-1 itself is kept."""
    assert strict_json_loads(str(MAX_SAFE_INTEGER)) == MAX_SAFE_INTEGER
    assert strict_json_loads(str(-MAX_SAFE_INTEGER)) == -MAX_SAFE_INTEGER
    with pytest.raises(CanonicalJSONError, match="beyond 2\\^53-1"):
        strict_json_loads(str(MAX_SAFE_INTEGER + 1))
    with pytest.raises(CanonicalJSONError, match="2\\^53-1"):
        canonical_json({"id": MAX_SAFE_INTEGER + 1})
    with pytest.raises(CanonicalJSONError, match="2\\^53-1"):
        canonical_json({"id": 1.5, "n": -(MAX_SAFE_INTEGER + 1)})


def test_invalid_json_names_line_and_column() -> None:
    """Malformed JSON is refused with its line and column."""
    with pytest.raises(CanonicalJSONError, match="line 2 column 5"):
        strict_json_loads(b'{"a":\n  1,,}')


def test_invalid_utf8_is_refused() -> None:
    """Bytes that are not UTF-8 are refused with the offset."""
    with pytest.raises(CanonicalJSONError, match="not valid UTF-8"):
        strict_json_loads(b'{"a": "\xff"}')


def test_deep_nesting_is_refused() -> None:
    """Absurdly deep nesting is refused with a sentence, not a crash."""
    with pytest.raises(CanonicalJSONError, match="nested too deeply"):
        strict_json_loads("[" * 100_000 + "]" * 100_000)


def test_keys_sort_by_utf16_code_units() -> None:
    """Keys are ordered by UTF-16 code units (RFC 8785 §3.2.3), not by code points."""
    value = {"\U0001f600": 1, "\ufb01": 2, "a": 3, "é": 4}
    assert canonical_json(value) == '{"a":3,"é":4,"😀":1,"ﬁ":2}'.encode()


def test_unicode_is_written_as_utf8_and_controls_escaped() -> None:
    """Non-ASCII stays literal UTF-8; control characters use the short or \\u00xx escapes."""
    value = {"s": 'é€😀\u007f/"\\\b\f\n\r\t\u0001\u001f'}
    expected = '{"s":"é€😀\u007f/\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f"}'.encode()
    assert canonical_json(value) == expected


def test_lone_surrogates_are_refused() -> None:
    """A lone surrogate is not Unicode and cannot be canonical."""
    with pytest.raises(CanonicalJSONError, match="lone surrogate"):
        canonical_json({"s": "\ud800"})


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (1.0, "1"),
        (-0.0, "0"),
        (1e21, "1e+21"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (123456789012345680000.0, "123456789012345680000"),
        (4.5, "4.5"),
        (2e-3, "0.002"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (5e-324, "5e-324"),
    ],
)
def test_floats_use_the_ecmascript_shortest_form(number: float, text: str) -> None:
    """Floats are written as ECMAScript Number.toString does (RFC 8785 §3.2.2.3)."""
    assert canonical_json([number]) == f"[{text}]".encode()


def test_nan_cannot_be_canonical() -> None:
    """NaN given in Python is refused when writing."""
    with pytest.raises(CanonicalJSONError, match="NaN"):
        canonical_json({"x": float("nan")})


def test_non_json_values_are_refused() -> None:
    """A value JSON cannot express is refused with a sentence."""
    with pytest.raises(CanonicalJSONError, match="cannot be canonical"):
        canonical_json({"x": object()})


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


def _no_surrogates(value: object) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@settings(max_examples=100, deadline=None)
@given(_JSON)
def test_fast_path_equals_the_reference_implementation(value: object) -> None:
    """canonical_json always gives exactly the bytes of the rfc8785 reference package."""
    if _no_surrogates(value):
        assert canonical_json(value) == rfc8785.dumps(value)


@settings(max_examples=60, deadline=None)
@given(_JSON)
def test_strict_reading_round_trips_canonical_bytes(value: object) -> None:
    """Reading canonical bytes strictly and writing them again gives the same bytes."""
    if _no_surrogates(value):
        data = canonical_json(value)
        assert canonical_json(strict_json_loads(data)) == data


_ENVELOPE_LIKE = st.dictionaries(
    st.text(alphabet=st.characters(max_codepoint=127), max_size=8),
    st.text() | st.lists(st.dictionaries(st.sampled_from(["keyid", "sig"]), st.text())),
    max_size=4,
)


@settings(max_examples=60, deadline=None)
@given(_ENVELOPE_LIKE)
def test_the_strings_only_encoder_equals_the_reference(value: dict[str, object]) -> None:
    """For ASCII-keyed objects of strings (envelopes) the short path gives RFC 8785 bytes."""
    if _no_surrogates(value):
        assert canonical_json_of_strings(value) == rfc8785.dumps(value)


def test_the_strings_only_encoder_refuses_lone_surrogates() -> None:
    """A lone surrogate cannot be encoded by the short path either."""
    with pytest.raises(CanonicalJSONError, match="lone surrogate"):
        canonical_json_of_strings({"payload": "\udfff"})


def test_writing_deep_nesting_is_refused() -> None:
    """Absurdly deep values are refused on writing with a sentence, not a crash."""
    value: list[object] = []
    for _ in range(100_000):
        value = [value]
    with pytest.raises(CanonicalJSONError, match="nested too deeply"):
        canonical_json(value)


def test_lone_surrogates_are_refused_next_to_floats() -> None:
    """The reference path (taken for floats) refuses lone surrogates as well."""
    with pytest.raises(CanonicalJSONError, match="non-UTF-8"):
        canonical_json({"f": 1.5, "s": "\ud800"})
