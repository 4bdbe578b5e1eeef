"""The CI context: which provider, repository, PR/MR and token a job runs for, from its variables.

`detect_ci` asks each entry of the provider table whether a mapping of environment variables (the
CLI passes `os.environ`; core code never reads it) is its CI; this module also writes GitHub
Actions' file commands (`$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`) and GitLab's dotenv report safely.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from pathlib import Path

from connectors._ci_context import CiContext
from connectors._dotenv import write_dotenv
from connectors.interface import GITHUB_STEP_SUMMARY_LIMIT, Renderer
from connectors.providers import detect_ci
from gatekeeper.errors import InputError, UsageError

__all__ = [
    "CiContext",
    "append_step_summary",
    "detect_ci",
    "write_dotenv",
    "write_github_output",
]

_OUTPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def write_github_output(path: Path, values: Mapping[str, str]) -> None:
    """Appends `values` to a `$GITHUB_OUTPUT` file, each as a heredoc with a random delimiter."""
    lines: list[str] = []
    for name, value in values.items():
        if not _OUTPUT_NAME.match(name):
            raise UsageError(f"invalid GitHub output name {name!r}")
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        while delimiter in value:  # pragma: no cover - 128 random bits
            delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        lines.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    _append(path, "".join(lines))


def append_step_summary(path: Path, render: Renderer) -> int:
    """Appends the Markdown verdict to `$GITHUB_STEP_SUMMARY` (1 MiB in all); returns bytes."""
    used = path.stat().st_size if path.exists() else 0
    budget = GITHUB_STEP_SUMMARY_LIMIT - used - 1
    if budget <= 0:
        return 0
    text = render(budget)
    while len(text.encode("utf-8")) > budget > 0:
        budget = budget * 3 // 4
        text = render(budget)
    data = text + "\n"
    _append(path, data)
    return len(data.encode("utf-8"))


def _append(path: Path, text: str) -> None:
    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as error:
        raise InputError(path, f"cannot write ({error.strerror})") from error
