"""The spool: statements `evaluate --submit` could not store, kept for `gatekeeper submit`.

One file per statement, `<sha256 of the request body>.json` holding the exact body the service
would have received (`{"project", "statement"}`), written 0600 through a temporary file and an
atomic rename, so a crash leaves either the whole statement or nothing. A statement the service
refused keeps its file, with the reason in `<name>.refused` beside it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gatekeeper.attest.canonical import CanonicalJSONError, canonical_json, strict_json_loads
from gatekeeper.cli._private_file import write_private
from gatekeeper.errors import InputError

REFUSED_SUFFIX = ".refused"


def keep(spool: Path, project: str, statement: Mapping[str, Any]) -> Path:
    """Writes the request body of `statement` into `spool`; returns the file."""
    body = canonical_json({"project": project, "statement": dict(statement)})
    path = spool / f"{hashlib.sha256(body).hexdigest()}.json"
    try:
        spool.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private(path, body)
    except OSError as error:
        raise InputError(spool, f"cannot keep the statement there ({error.strerror})") from error
    return path


def waiting(spool: Path) -> list[Path]:
    """The statements in `spool` not yet refused, oldest first."""
    if not spool.is_dir():
        raise InputError(spool, "is not a folder")
    found = [
        path
        for path in spool.glob("*.json")
        if not path.with_name(path.name + REFUSED_SUFFIX).exists()
    ]
    return sorted(found, key=lambda path: (path.stat().st_mtime_ns, path.name))


def refused(spool: Path) -> list[Path]:
    """The statements in `spool` the service refused (a `.refused` file beside each)."""
    return sorted(path for path in spool.glob("*.json") if _reason_file(path).exists())


def read(path: Path) -> tuple[str, dict[str, Any]]:
    """(project, statement) of a spooled file; InputError naming the file when it is damaged."""
    try:
        body = strict_json_loads(path.read_bytes())
    except OSError as error:
        raise InputError(path, f"cannot read ({error.strerror})") from error
    except CanonicalJSONError as error:
        raise InputError(path, str(error)) from error
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("project"), str)
        or not isinstance(body.get("statement"), dict)
    ):
        raise InputError(path, 'is not a spooled statement ({"project", "statement"})')
    return body["project"], body["statement"]


def _reason_file(path: Path) -> Path:
    return path.with_name(path.name + REFUSED_SUFFIX)


def mark_refused(path: Path, reason: str) -> Path:
    """Keeps `path` and writes why the service refused it beside it."""
    beside = _reason_file(path)
    write_private(beside, (json.dumps({"reason": reason}) + "\n").encode())
    return beside
