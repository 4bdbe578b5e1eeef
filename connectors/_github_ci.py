"""GitHub Actions' CI environment: the job's repository, PR, commit and run, from its variables."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from connectors._ci_context import (
    CiContext,
    env_token,
    event_payload,
    int_or_none,
    mapping,
    path_or_none,
)

_PR_REF = re.compile(r"^refs/pull/(\d+)/")


def github_context(
    env: Mapping[str, str], *, default_api_url: str, token_variables: Sequence[str]
) -> CiContext | None:
    """The GitHub Actions context in `env`, or None when the job is not a GitHub Actions job."""
    if env.get("GITHUB_ACTIONS") != "true":
        return None
    payload = event_payload(env.get("GITHUB_EVENT_PATH"), "GitHub event payload")
    pull = payload.get("pull_request") if isinstance(payload.get("pull_request"), dict) else None
    number: int | None = None
    commit = env.get("GITHUB_SHA") or None
    ref = env.get("GITHUB_REF") or None
    if pull is not None:
        number = int_or_none(pull.get("number"))
        head = mapping(pull.get("head"))
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
        api_url=env.get("GITHUB_API_URL") or default_api_url,
        repo=repo,
        number=number,
        commit=commit,
        ref=ref,
        event=env.get("GITHUB_EVENT_NAME") or None,
        run_url=f"{server}/{repo}/actions/runs/{run_id}" if repo and run_id else None,
        actor=env.get("GITHUB_ACTOR") or None,
        token=env_token(token_variables, env)[0],
        step_summary=path_or_none(env.get("GITHUB_STEP_SUMMARY")),
        output=path_or_none(env.get("GITHUB_OUTPUT")),
    )


def _pushed(
    payload: Mapping[str, Any], commit: str | None, ref: str | None
) -> tuple[str | None, str | None]:
    """Commit and ref of a `push` or `release` run, from GITHUB_SHA/REF or else the payload."""
    head = mapping(payload.get("head_commit"))
    release = mapping(payload.get("release"))
    after = payload.get("after") or head.get("id")
    commit = commit or (str(after) if after and set(str(after)) != {"0"} else None)
    if ref is None and release.get("tag_name"):
        ref = f"refs/tags/{release['tag_name']}"
    return commit, ref or (str(payload["ref"]) if payload.get("ref") else None)
