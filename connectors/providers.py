"""The provider table, and choosing and building a provider connection from flags and the CI
context (env passed in).

`PROVIDERS` is the one list of code hosts: the CLI's `--provider` choices, CI detection, the default
API URLs, the token variables, the ID-token request and the service's review confirmation all read
it. Each entry lives in its
host's module (`connectors.github.PROVIDER`), the only module that imports that host's SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

from connectors import github, gitlab
from connectors._ci_context import CiContext, env_token
from connectors.interface import (
    CollectOptions,
    Connection,
    FactsCollector,
    FeedbackPublisher,
    Provider,
    RequestStats,
    RetryPolicy,
)
from gatekeeper.errors import UsageError

PROVIDERS: Mapping[str, Provider] = {
    entry.name: entry for entry in (github.PROVIDER, gitlab.PROVIDER)
}
"""Every provider Gatekeeper speaks to, by `--provider` name."""

ProviderName = str


def provider(name: str) -> Provider:
    """The table entry named `name`; a UsageError lists the names there are."""
    entry = PROVIDERS.get(name)
    if entry is None:
        raise UsageError(f"unknown provider {name!r}; give --provider {' or '.join(PROVIDERS)}")
    return entry


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

    @field_validator("provider")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in PROVIDERS:
            raise ValueError(f"unknown provider {value!r} (known: {', '.join(PROVIDERS)})")
        return value

    @property
    def entry(self) -> Provider:
        """This target's entry in the provider table."""
        return PROVIDERS[self.provider]


def detect_ci(env: Mapping[str, str]) -> CiContext | None:
    """The CI context of the first provider whose CI `env` describes, or None outside CI."""
    for entry in PROVIDERS.values():
        context = entry.ci_context(env)
        if context is not None:
            return context
    return None


def provider_token(entry: Provider, env: Mapping[str, str]) -> tuple[SecretStr | None, bool]:
    """The API token for `entry` from `env` (registered with the log mask), and whether it is
    a CI job's own token (any variable after the first)."""
    return env_token(entry.token_variables, env)


def resolve_target(
    provider_name: str | None,
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
    chosen = provider_name or (ci.provider if ci else None)
    if chosen is None or chosen not in PROVIDERS:
        choices = " or ".join(f"--provider {name}" for name in PROVIDERS)
        raise UsageError(f"give {choices} (no CI context found)")
    entry = PROVIDERS[chosen]
    name = entry.name
    same = ci if ci is not None and ci.provider == name else None
    api = api_url or (same.api_url if same else entry.default_api_url)
    repo = repo or (same.repo if same else None)
    if not repo:
        raise UsageError(f"give --repo OWNER/NAME for {name} (not found in the CI context)")
    if number is None and same is not None:
        number = same.number
    if number is None and require_number and not (commit or (same and same.commit)):
        raise UsageError(
            f"give --pr N or --commit SHA for {name} (no pull/merge request in the CI context)"
        )
    token, job_token = provider_token(entry, env)
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
) -> Connection:
    """The connection for `target`, sharing `stats` (request count) when given."""
    token = target.token.get_secret_value() if target.token else None
    return target.entry.connect(
        api_url=target.api_url,
        token=token,
        repo=target.repo,
        job_token=target.job_token,
        retry=retry,
        stats=stats,
    )


def collector(
    connection: Connection, target: Target, options: CollectOptions | None = None
) -> FactsCollector:
    """A collector of the PR/MR in `target`, or of its commit (reviews from the merging PR/MR)."""
    if target.number is None and target.commit is None:
        raise UsageError(f"give --pr N or --commit SHA for {target.provider}")
    return connection.collector(
        target.number, commit=target.commit, ref=target.ref, options=options
    )


def publisher(
    connection: Connection,
    target: Target,
    *,
    head: str,
    dotenv: Path | None = None,
    comment: bool = True,
) -> FeedbackPublisher:
    """A publisher of feedback on the PR/MR and `head` commit of `target` (the dotenv report
    only where the provider's CI reads one)."""
    return connection.publisher(
        number=target.number,
        commit=head,
        comment=comment,
        dotenv=dotenv if target.entry.ci_dotenv else None,
    )
