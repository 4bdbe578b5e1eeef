"""The CI context model and the small readers the providers' CI-environment entries share."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr

from gatekeeper.errors import InputError
from gatekeeper.logs import SECRETS


class CiContext(BaseModel):
    """What the CI job says about itself; None where it says nothing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str
    api_url: str
    repo: str | None = None
    number: int | None = None
    commit: str | None = None
    ref: str | None = None
    event: str | None = None
    run_url: str | None = None
    actor: str | None = None
    token: SecretStr | None = None
    step_summary: Path | None = None
    output: Path | None = None


def env_token(names: Sequence[str], env: Mapping[str, str]) -> tuple[SecretStr | None, bool]:
    """The first non-empty token among `names` in `env` (registered with the log mask), and
    whether it is a CI job's own token (any variable after the first)."""
    for index, name in enumerate(names):
        value = env.get(name, "").strip()
        if value:
            SECRETS.add(value)
            return SecretStr(value), index > 0
    return None, False


def event_payload(path: str | None, what: str) -> dict[str, Any]:
    """The JSON object in the CI's event file at `path` ({} when there is none)."""
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(path, f"cannot read the {what} ({error.strerror})") from error
    except json.JSONDecodeError as error:
        raise InputError(path, f"the {what} is not JSON: {error.msg}", line=error.lineno) from error
    return data if isinstance(data, dict) else {}


def mapping(value: object) -> Mapping[str, Any]:
    """`value` when it is a JSON object, else {}."""
    return value if isinstance(value, dict) else {}


def int_or_none(value: object) -> int | None:
    """An int from an int or a string of digits, else None."""
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def path_or_none(value: str | None) -> Path | None:
    """A path from a non-empty string, else None."""
    return Path(value) if value else None
