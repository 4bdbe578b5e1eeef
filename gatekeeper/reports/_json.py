"""A JSON report's bytes as a value; every decoding problem is one ReportError naming the place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gatekeeper.errors import ReportError


def decode_json(path: Path, data: bytes) -> Any:
    """`data` (read from `path`) as JSON."""
    try:
        return json.loads(data)
    except json.JSONDecodeError as error:
        raise ReportError(
            path, f"invalid JSON: {error.msg}", line=error.lineno, column=error.colno
        ) from None
    except UnicodeDecodeError as error:
        raise ReportError(path, f"not UTF-8 text: {error.reason}") from None
    except RecursionError:
        raise ReportError(path, "invalid JSON: nested too deeply") from None
