"""Choosing and building a provider connector from flags and the CI context (env passed in)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, SecretStr

from connectors.ci_env import DEFAULT_API_URLS, CiContext, detect_ci, provider_token
from connectors.github import GitHub
from connectors.gitlab import GitLab
from connectors.interface import (
    CollectOptions,
    FactsCollector,
    FeedbackPublisher,
    RequestStats,
    RetryPolicy,
)
from gatekeeper.errors import UsageError

ProviderName = Literal["github", "gitlab"]


class Target(BaseModel):
    """Where facts come from and feedback goes: provider, API, repository, PR/MR, head commit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: ProviderName
    api_url: str
    repo: str
    number: int | None = None
    commit: str | None = None
    ref: str | None = None
    token: SecretStr | None = None
    job_token: bool = False
    ci: CiContext | None = None


def resolve_target(
    provider: str | None,
    *,
    api_url: str | None = None,
    repo: str | None = None,
    number: int | None = None,
    commit: str | None = None,
    env: Mapping[str, str],
    require_number: bool = True,
) -> Target:
    """Flags first, then the CI context in `env`; a UsageError names what is still missing."""
    ci = detect_ci(env)
    chosen = provider or (ci.provider if ci else None)
    if chosen not in ("github", "gitlab"):
        raise UsageError("give --provider github or --provider gitlab (no CI context found)")
    name: ProviderName = "github" if chosen == "github" else "gitlab"
    same = ci if ci is not None and ci.provider == name else None
    api = api_url or (same.api_url if same else DEFAULT_API_URLS[name])
    repo = repo or (same.repo if same else None)
    if not repo:
        raise UsageError(f"give --repo OWNER/NAME for {name} (not found in the CI context)")
    if number is None and same is not None:
        number = same.number
    if number is None and require_number and not (commit or (same and same.commit)):
        raise UsageError(
            f"give --pr N or --commit SHA for {name} (no pull/merge request in the CI context)"
        )
    token = provider_token(name, env)
    job_token = name == "gitlab" and not env.get("GITLAB_TOKEN") and token is not None
    from_ci = same is not None and commit in (None, same.commit)
    return Target(
        provider=name,
        api_url=api,
        repo=repo,
        number=number,
        commit=commit or (same.commit if same else None),
        ref=same.ref if same is not None and from_ci else None,
        token=token,
        job_token=job_token,
        ci=same,
    )


def connect(
    target: Target, *, retry: RetryPolicy | None = None, stats: RequestStats | None = None
) -> GitHub | GitLab:
    """The connector for `target`, sharing `stats` (request count) when given."""
    token = target.token.get_secret_value() if target.token else None
    if target.provider == "github":
        return GitHub(
            api_url=target.api_url, token=token, repo=target.repo, retry=retry, stats=stats
        )
    return GitLab(
        api_url=target.api_url,
        token=token,
        repo=target.repo,
        job_token=target.job_token,
        retry=retry,
        stats=stats,
    )


def collector(
    connection: GitHub | GitLab, target: Target, options: CollectOptions | None = None
) -> FactsCollector:
    """A collector of the PR/MR in `target`, or of its commit (reviews from the merging PR/MR)."""
    if target.number is None and target.commit is None:
        raise UsageError(f"give --pr N or --commit SHA for {target.provider}")
    return connection.collector(
        target.number, commit=target.commit, ref=target.ref, options=options
    )


def publisher(
    connection: GitHub | GitLab,
    target: Target,
    *,
    head: str,
    dotenv: Path | None = None,
    comment: bool = True,
) -> FeedbackPublisher:
    """A publisher of feedback on the PR/MR and `head` commit of `target`."""
    if isinstance(connection, GitHub):
        return connection.publisher(number=target.number, commit=head, comment=comment)
    return connection.publisher(number=target.number, commit=head, dotenv=dotenv, comment=comment)
