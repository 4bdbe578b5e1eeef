"""Facts from a saved JSON file (the output of `gatekeeper inspect --format json`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gatekeeper.errors import FactsError
from gatekeeper.facts import Facts, Source

MAX_FACTS_BYTES = 256 * 1024 * 1024


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key '{key}'")
        result[key] = value
    return result


def _parse(path: Path, text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as error:
        raise FactsError(
            path, f"invalid JSON: {error.msg}", line=error.lineno, column=error.colno
        ) from error
    except ValueError as error:
        raise FactsError(path, f"invalid JSON: {error}") from error


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "facts"


def load_facts_file(path: Path) -> Facts:
    """The Facts saved in `path`; its own location is added to the sources."""
    try:
        if path.stat().st_size > MAX_FACTS_BYTES:
            raise FactsError(path, f"larger than {MAX_FACTS_BYTES} bytes")
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise FactsError(path, f"cannot read: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise FactsError(path, f"not UTF-8 text (byte {error.start})") from error
    data = _parse(path, text)
    if not isinstance(data, dict):
        raise FactsError(path, "a facts file must hold one JSON object", line=1, column=1)
    try:
        facts = Facts.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        raise FactsError(path, f"{_where(tuple(first['loc']))}: {first['msg']}") from error
    source = Source(kind="facts-file", location=str(path), format="gatekeeper-facts")
    return facts.model_copy(update={"sources": (*facts.sources, source)})
