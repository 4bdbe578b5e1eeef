"""In GitHub Actions, nothing Gatekeeper prints can be read by the runner as a workflow command.

The runner reads every line of a step's stdout and stderr; a test name such as `::add-mask::x` in
a printed failure list would run. `install()` wraps both streams so that every line passes through
`guard_log_line`; Gatekeeper's own commands go through `workflow_command`, which writes past it.
"""

from __future__ import annotations

import io
import os
import sys
from typing import TextIO

from gatekeeper.render.escape import guard_log_line, workflow_data, workflow_property


class GuardedStream(io.TextIOBase):
    """A text stream that hands whole lines, guarded, to `raw`; a partial line waits for its end."""

    def __init__(self, raw: TextIO) -> None:
        super().__init__()
        self.raw = raw
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        if lines:
            self.raw.write("".join(guard_log_line(line) + "\n" for line in lines))
        return len(text)

    def flush(self) -> None:
        if self._partial:
            self.raw.write(guard_log_line(self._partial))
            self._partial = ""
        self.raw.flush()

    def isatty(self) -> bool:
        return self.raw.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.raw, "encoding", "utf-8")


def unguarded(stream: TextIO) -> TextIO:
    """The stream under the guard, for Gatekeeper's own workflow commands."""
    return stream.raw if isinstance(stream, GuardedStream) else stream


def in_github_actions() -> bool:
    """True inside a GitHub Actions job."""
    return os.environ.get("GITHUB_ACTIONS") == "true"


def install() -> None:
    """In GitHub Actions, guard stdout and stderr (idempotent); elsewhere do nothing."""
    if not in_github_actions():
        return
    if not isinstance(sys.stdout, GuardedStream):
        sys.stdout = GuardedStream(sys.stdout)
    if not isinstance(sys.stderr, GuardedStream):
        sys.stderr = GuardedStream(sys.stderr)


def workflow_command(name: str, message: str, **properties: str) -> None:
    """Writes one of Gatekeeper's own workflow commands (`::notice title=T::message`), stderr."""
    props = ",".join(f"{key}={workflow_property(value)}" for key, value in properties.items())
    stream = unguarded(sys.stderr)
    sys.stderr.flush()
    stream.write(f"::{name}{' ' + props if props else ''}::{workflow_data(message)}\n")
    stream.flush()
