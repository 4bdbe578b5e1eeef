"""GitLab CI's environment: the job's project, MR, commit and job, from its predefined variables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from connectors._ci_context import CiContext, env_token, int_or_none


def gitlab_context(
    env: Mapping[str, str], *, default_api_url: str, token_variables: Sequence[str]
) -> CiContext | None:
    """The GitLab CI context in `env`, or None when the job is not a GitLab CI job."""
    if not (env.get("GITLAB_CI") == "true" or env.get("CI_API_V4_URL")):
        return None
    api = env.get("CI_API_V4_URL", "").rstrip("/")
    base = api.removesuffix("/api/v4") if api else env.get("CI_SERVER_URL", "")
    return CiContext(
        provider="gitlab",
        api_url=base or default_api_url,
        repo=env.get("CI_PROJECT_PATH") or None,
        number=int_or_none(env.get("CI_MERGE_REQUEST_IID")),
        commit=env.get("CI_COMMIT_SHA") or None,
        ref=_gitlab_ref(env),
        event=env.get("CI_PIPELINE_SOURCE") or None,
        run_url=env.get("CI_JOB_URL") or env.get("CI_PIPELINE_URL") or None,
        actor=env.get("GITLAB_USER_LOGIN") or None,
        token=env_token(token_variables, env)[0],
    )


def _gitlab_ref(env: Mapping[str, str]) -> str | None:
    """The MR source branch, else the full ref of a tag or branch pipeline."""
    if env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"):
        return env["CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"]
    if env.get("CI_COMMIT_TAG"):
        return f"refs/tags/{env['CI_COMMIT_TAG']}"
    if env.get("CI_COMMIT_BRANCH"):
        return f"refs/heads/{env['CI_COMMIT_BRANCH']}"
    return env.get("CI_COMMIT_REF_NAME") or None
