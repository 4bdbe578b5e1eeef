"""Canonical JSON (RFC 8785) and a strict JSON reader that refuses what cannot be canonical.

Parse strictly first, then canonicalise once and keep the bytes: a duplicate key, a NaN or an
integer beyond 2^53-1 would make two readers disagree about what was signed.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, NoReturn

import rfc8785

from gatekeeper.errors import AttestError

__all__ = [
    "MAX_SAFE_INTEGER",
    "CanonicalJSONError",
    "canonical_json",
    "canonical_json_of_strings",
    "strict_json_loads",
]

MAX_SAFE_INTEGER = 2**53 - 1


class CanonicalJSONError(AttestError):
    """JSON that cannot be read strictly or written canonically; `str()` is one sentence."""


class UnsafeNumberError(CanonicalJSONError):
    """Valid JSON with a number that cannot be kept exactly (beyond 2^53-1, a float overflow)."""


def _pairs_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        counts = Counter(key for key, _value in pairs)
        duplicate = next(key for key, count in counts.items() if count > 1)
        raise CanonicalJSONError(f"duplicate key {duplicate!r} in a JSON object")
    return result


def _refuse_constant(name: str) -> NoReturn:
    raise CanonicalJSONError(f"{name} is not a JSON number; write a finite number or a string")


def _safe_int(text: str) -> int:
    # the length first: int() of thousands of digits is slow and past 4300 a ValueError
    digits = len(text.lstrip("-"))
    if digits > 16 or abs(int(text)) > MAX_SAFE_INTEGER:
        shown = text if digits <= 20 else f"{text[:12]}... ({digits} digits)"
        raise UnsafeNumberError(
            f"the integer {shown} is beyond 2^53-1 and cannot be kept exactly; send it as a string"
        )
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise UnsafeNumberError(f"the number {text[:40]} is too large for a 64-bit float")
    return value


_STRICT_DECODER = json.JSONDecoder(
    object_pairs_hook=_pairs_without_duplicates,
    parse_constant=_refuse_constant,
    parse_int=_safe_int,
    parse_float=_finite_float,
)


def strict_json_loads(data: bytes | str) -> Any:
    """Parse JSON, refusing duplicate keys, NaN/Infinity, unsafe integers and invalid UTF-8."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise CanonicalJSONError(f"the JSON is not valid UTF-8 (byte {error.start})") from error
    else:
        text = data
    try:
        return _STRICT_DECODER.decode(text)
    except json.JSONDecodeError as error:
        raise CanonicalJSONError(
            f"invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from error
    except RecursionError as error:
        raise CanonicalJSONError("the JSON is nested too deeply") from error


_SORTED_COMPACT = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _dumps_is_canonical(value: Any) -> bool:
    """True when `json.dumps` (sorted, compact, no ASCII escaping) already gives RFC 8785.

    That holds for strings, safe integers, booleans, null, and objects with ASCII keys (code
    point order is UTF-16 order there); the number formats of floats differ, so they do not.
    """
    if isinstance(value, str) or value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
    if isinstance(value, dict):
        return all(
            isinstance(key, str) and key.isascii() and _dumps_is_canonical(item)
            for key, item in value.items()
        )
    if isinstance(value, list | tuple):
        return all(_dumps_is_canonical(item) for item in value)
    return False


def canonical_json_of_strings(value: Any) -> bytes:
    """RFC 8785 bytes of a value the caller has checked holds only objects with ASCII keys,
    arrays, strings, safe integers, booleans and null (a DSSE envelope, for one): `json.dumps`
    gives exactly those bytes, without a walk over the value."""
    try:
        return _SORTED_COMPACT.encode(value).encode("utf-8")
    except UnicodeEncodeError as error:
        raise CanonicalJSONError(
            "a string holds a lone surrogate, which is not valid Unicode"
        ) from error


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 (JCS) canonical UTF-8 bytes of a JSON value."""
    try:
        if _dumps_is_canonical(value):
            return canonical_json_of_strings(value)
        encoded: bytes = rfc8785.dumps(value)
    except RecursionError as error:
        raise CanonicalJSONError("the value is nested too deeply") from error
    except rfc8785.IntegerDomainError as error:
        raise CanonicalJSONError(
            f"an integer is beyond 2^53-1 and cannot be canonical: {error}"
        ) from error
    except rfc8785.FloatDomainError as error:
        raise CanonicalJSONError(f"NaN and Infinity have no canonical form: {error}") from error
    except rfc8785.CanonicalizationError as error:
        raise CanonicalJSONError(f"the value cannot be canonical JSON: {error}") from error
    return encoded
