"""Canonical JSON (RFC 8785) and a strict JSON reader that refuses what cannot be canonical.

Parse strictly first, then canonicalise once and keep the bytes: a duplicate key, a NaN or an
integer beyond 2^53-1 would make two readers disagree about what was signed.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

import rfc8785

__all__ = ["MAX_SAFE_INTEGER", "CanonicalJSONError", "canonical_json", "strict_json_loads"]

MAX_SAFE_INTEGER = 2**53 - 1


class CanonicalJSONError(ValueError):
    """JSON that cannot be read strictly or written canonically; `str()` is one sentence."""


def _pairs_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise CanonicalJSONError(f"duplicate key {key!r} in a JSON object")
        result[key] = value
    return result


def _refuse_constant(name: str) -> NoReturn:
    raise CanonicalJSONError(f"{name} is not a JSON number; write a finite number or a string")


def _safe_int(text: str) -> int:
    value = int(text)
    if abs(value) > MAX_SAFE_INTEGER:
        raise CanonicalJSONError(
            f"the integer {text} is beyond 2^53-1 and cannot be kept exactly; send it as a string"
        )
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise CanonicalJSONError(f"the number {text} is too large for a 64-bit float")
    return value


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
        return json.loads(
            text,
            object_pairs_hook=_pairs_without_duplicates,
            parse_constant=_refuse_constant,
            parse_int=_safe_int,
            parse_float=_finite_float,
        )
    except json.JSONDecodeError as error:
        raise CanonicalJSONError(
            f"invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from error
    except RecursionError as error:
        raise CanonicalJSONError("the JSON is nested too deeply") from error


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 (JCS) canonical UTF-8 bytes of a JSON value."""
    try:
        encoded: bytes = rfc8785.dumps(value)
    except rfc8785.IntegerDomainError as error:
        raise CanonicalJSONError(
            f"an integer is beyond 2^53-1 and cannot be canonical: {error}"
        ) from error
    except rfc8785.FloatDomainError as error:
        raise CanonicalJSONError(f"NaN and Infinity have no canonical form: {error}") from error
    except rfc8785.CanonicalizationError as error:
        raise CanonicalJSONError(f"the value cannot be canonical JSON: {error}") from error
    except UnicodeEncodeError as error:
        raise CanonicalJSONError(
            "a string holds a lone surrogate, which is not valid Unicode"
        ) from error
    return encoded
