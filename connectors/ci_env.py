"""The CI context: which provider, repository, PR/MR and token a job runs for, from its variables.

Takes a mapping of environment variables (the CLI passes `os.environ`; core code never reads it),
and writes GitHub Actions' file commands (`$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`) safely.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, SecretStr

from connectors.interface import GITHUB_STEP_SUMMARY_LIMIT, Feedback, Renderer
from gatekeeper.errors import InputError, UsageError
from gatekeeper.logs import SECRETS

Provider = Literal["github", "gitlab"]
DEFAULT_API_URLS: Mapping[str, str] = {
    "github": "https://api.github.com",
    "gitlab": "https://gitlab.com",
}
_OUTPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_PR_REF = re.compile(r"^refs/pull/(\d+)/")


class CiContext(BaseModel):
    """What the CI job says about itself; None where it says nothing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: Provider
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


def detect_ci(env: Mapping[str, str]) -> CiContext | None:
    """The GitHub Actions or GitLab CI context described by `env`, or None outside CI."""
    if env.get("GITHUB_ACTIONS") == "true":
        return _github_context(env)
    if env.get("GITLAB_CI") == "true" or env.get("CI_API_V4_URL"):
        return _gitlab_context(env)
    return None


def provider_token(provider: Provider, env: Mapping[str, str]) -> SecretStr | None:
    """The API token for `provider` from `env`, registered with the log mask."""
    names = ("GITHUB_TOKEN",) if provider == "github" else ("GITLAB_TOKEN", "CI_JOB_TOKEN")
    for name in names:
        value = env.get(name, "").strip()
        if value:
            SECRETS.add(value)
            return SecretStr(value)
    return None


def _github_context(env: Mapping[str, str]) -> CiContext:
    event = env.get("GITHUB_EVENT_NAME") or None
    payload = _event_payload(env.get("GITHUB_EVENT_PATH"))
    pull = payload.get("pull_request") if isinstance(payload.get("pull_request"), dict) else None
    number: int | None = None
    commit = env.get("GITHUB_SHA") or None
    ref = env.get("GITHUB_REF") or None
    if pull is not None:
        number = _int_or_none(pull.get("number"))
        head = pull.get("head") if isinstance(pull.get("head"), dict) else {}
        commit = head.get("sha") or commit
        ref = head.get("ref") or ref
    elif ref and (match := _PR_REF.match(ref)):
        number = int(match.group(1))
    else:
        commit, ref = _pushed(payload, commit, ref)
    server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    repo = env.get("GITHUB_REPOSITORY") or None
    run_id = env.get("GITHUB_RUN_ID")
    return CiContext(
        provider="github",
        api_url=env.get("GITHUB_API_URL") or DEFAULT_API_URLS["github"],
        repo=repo,
        number=number,
        commit=commit,
        ref=ref,
        event=event,
        run_url=f"{server}/{repo}/actions/runs/{run_id}" if repo and run_id else None,
        actor=env.get("GITHUB_ACTOR") or None,
        token=provider_token("github", env),
        step_summary=_path_or_none(env.get("GITHUB_STEP_SUMMARY")),
        output=_path_or_none(env.get("GITHUB_OUTPUT")),
    )


def _pushed(
    payload: Mapping[str, Any], commit: str | None, ref: str | None
) -> tuple[str | None, str | None]:
    """Commit and ref of a `push` or `release` run, from GITHUB_SHA/REF or else the payload."""
    head = _mapping(payload.get("head_commit"))
    release = _mapping(payload.get("release"))
    after = payload.get("after") or head.get("id")
    commit = commit or (str(after) if after and set(str(after)) != {"0"} else None)
    if ref is None and release.get("tag_name"):
        ref = f"refs/tags/{release['tag_name']}"
    return commit, ref or (str(payload["ref"]) if payload.get("ref") else None)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _gitlab_ref(env: Mapping[str, str]) -> str | None:
    """The MR source branch, else the full ref of a tag or branch pipeline."""
    if env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"):
        return env["CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"]
    if env.get("CI_COMMIT_TAG"):
        return f"refs/tags/{env['CI_COMMIT_TAG']}"
    if env.get("CI_COMMIT_BRANCH"):
        return f"refs/heads/{env['CI_COMMIT_BRANCH']}"
    return env.get("CI_COMMIT_REF_NAME") or None


def _gitlab_context(env: Mapping[str, str]) -> CiContext:
    api = env.get("CI_API_V4_URL", "").rstrip("/")
    base = api.removesuffix("/api/v4") if api else env.get("CI_SERVER_URL", "")
    return CiContext(
        provider="gitlab",
        api_url=base or DEFAULT_API_URLS["gitlab"],
        repo=env.get("CI_PROJECT_PATH") or None,
        number=_int_or_none(env.get("CI_MERGE_REQUEST_IID")),
        commit=env.get("CI_COMMIT_SHA") or None,
        ref=_gitlab_ref(env),
        event=env.get("CI_PIPELINE_SOURCE") or None,
        run_url=env.get("CI_JOB_URL") or env.get("CI_PIPELINE_URL") or None,
        actor=env.get("GITLAB_USER_LOGIN") or None,
        token=provider_token("gitlab", env),
    )


def _event_payload(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(
            path, f"cannot read the GitHub event payload ({error.strerror})"
        ) from error
    except json.JSONDecodeError as error:
        raise InputError(
            path, f"the GitHub event payload is not JSON: {error.msg}", line=error.lineno
        ) from error
    return data if isinstance(data, dict) else {}


def _int_or_none(value: object) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _path_or_none(value: str | None) -> Path | None:
    return Path(value) if value else None


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


def write_dotenv(path: Path, feedback: Feedback) -> Path:
    """Writes GATEKEEPER_VERDICT, _POLICY and _SUMMARY for a `reports: dotenv:` artifact."""
    summary = " ".join(feedback.summary.split())[:1000]
    lines = [
        f"GATEKEEPER_VERDICT={feedback.verdict}",
        f"GATEKEEPER_POLICY={feedback.policy}",
        f"GATEKEEPER_SUMMARY={summary}",
    ]
    try:
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    except OSError as error:
        raise InputError(path, f"cannot write ({error.strerror})") from error
    return path
