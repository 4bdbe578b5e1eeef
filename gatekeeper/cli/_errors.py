"""An error as the user sees it: the sentence, the hint on its own line, and the CI's own form."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TextIO

from gatekeeper import logs
from gatekeeper.errors import GatekeeperError


def workflow_command_data(text: str) -> str:
    """`text` escaped as the data of a GitHub Actions workflow command (one line, no injection)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


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
        print(f"::error title=Gatekeeper::{workflow_command_data(annotation)}", file=stream)
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
