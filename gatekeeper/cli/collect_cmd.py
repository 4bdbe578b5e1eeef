"""`gatekeeper collect`: facts of a pull/merge request from GitHub or GitLab."""

from __future__ import annotations

import enum
import logging
import os
from typing import Annotated

import typer

from connectors import providers
from connectors.interface import CollectOptions, RequestStats, RetryPolicy
from gatekeeper.cli import _output
from gatekeeper.config import Settings, load_settings
from gatekeeper.render.provider_text import provider_text

_log = logging.getLogger(__name__)


class ProviderChoice(enum.StrEnum):
    github = "github"
    gitlab = "gitlab"


def retry_policy(settings: Settings) -> RetryPolicy:
    """The connectors' retry policy from the settings."""
    return RetryPolicy(
        attempts=settings.provider_attempts,
        base_delay=settings.provider_base_delay,
        max_total_wait=settings.provider_max_total_wait,
    )


def collect(
    *,
    provider: Annotated[
        ProviderChoice | None,
        typer.Option("--provider", help="github or gitlab (found from the CI context in CI)."),
    ] = None,
    api_url: Annotated[
        str | None, typer.Option("--api-url", help="API base URL (GHES: https://HOST/api/v3).")
    ] = None,
    repo: Annotated[str | None, typer.Option("--repo", help="OWNER/NAME or group/project.")] = None,
    pr: Annotated[int | None, typer.Option("--pr", help="Pull request number or MR iid.")] = None,
    issue_pattern: Annotated[
        str | None, typer.Option("--issue-pattern", help="Regex for linked issues.")
    ] = None,
    exclude_commit_authors: Annotated[
        bool,
        typer.Option("--exclude-commit-authors", help="Commit authors may not approve."),
    ] = False,
    output_format: Annotated[
        _output.FactsFormat, typer.Option("--format", help="Output format.")
    ] = _output.FactsFormat.text,
) -> None:
    """Collect review, check and change facts of a PR/MR (token from GITHUB_TOKEN/GITLAB_TOKEN)."""
    settings = load_settings()
    target = providers.resolve_target(
        provider.value if provider else None,
        api_url=api_url,
        repo=repo,
        number=pr,
        env=os.environ,
    )
    options = CollectOptions(exclude_commit_authors=exclude_commit_authors)
    if issue_pattern is not None:
        options = options.model_copy(update={"issue_pattern": issue_pattern})
    stats = RequestStats()
    connection = providers.connect(target, retry=retry_policy(settings), stats=stats)
    try:
        facts = providers.collector(connection, target, options).collect()
    finally:
        _log.info("%d HTTP request(s) to %s at %s", stats.requests, target.provider, target.api_url)
    if output_format is _output.FactsFormat.text:
        typer.echo(provider_text(facts))
    _output.print_facts(facts, output_format)
