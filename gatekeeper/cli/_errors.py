"""An error as the user sees it: the sentence, the hint on its own line, and the CI's own form."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TextIO

from gatekeeper import logs
from gatekeeper.cli._log_guard import unguarded
from gatekeeper.errors import GatekeeperError
from gatekeeper.render.escape import workflow_data


def _one_line(text: str) -> str:
    return " ".join(text.split())


def report_error(error: GatekeeperError, env: Mapping[str, str], stream: TextIO) -> None:
    """Writes `error` to `stream`: `error: ...`, then `hint: ...`; annotated in GitHub or GitLab."""
    sentence = _one_line(logs.SECRETS.mask(str(error)))
    hint = _one_line(logs.SECRETS.mask(error.hint)) if error.hint else None
    print(f"error: {sentence}", file=stream)
    if hint:
        print(f"hint: {hint}", file=stream)
    if env.get("GITHUB_ACTIONS") == "true":
        annotation = f"{sentence} (hint: {hint})" if hint else sentence
        stream.flush()
        raw = unguarded(stream)  # Gatekeeper's own command passes the log guard
        raw.write(f"::error title=Gatekeeper::{workflow_data(annotation)}\n")
        raw.flush()
    elif env.get("GITLAB_CI") == "true":
        now = int(time.time())
        print(
            f"\x1b[0Ksection_start:{now}:gatekeeper_error[collapsed=true]\r\x1b[0K"
            f"Gatekeeper: {type(error).__name__}, exit code {error.exit_code}",
            file=stream,
        )
        print(sentence, file=stream)
        if hint:
            print(f"hint: {hint}", file=stream)
        print(f"\x1b[0Ksection_end:{now}:gatekeeper_error\r\x1b[0K", file=stream)
