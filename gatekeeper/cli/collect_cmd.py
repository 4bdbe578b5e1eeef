"""`gatekeeper collect`: facts of a pull/merge request from GitHub or GitLab."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from connectors import providers
from connectors.interface import CollectOptions
from gatekeeper.cli import _output, _run
from gatekeeper.cli._provider import ProviderChoice, Session
from gatekeeper.cli.evaluate_cmd import combine
from gatekeeper.config import load_settings
from gatekeeper.render.provider_text import provider_text


def collect(
    *,
    provider: Annotated[
        ProviderChoice | None,
        typer.Option(
            "--provider",
            help="github or gitlab (found from the CI context in CI).",
        ),
    ] = None,
    api_url: Annotated[
        str | None, typer.Option("--api-url", help="API base URL (GHES: https://HOST/api/v3).")
    ] = None,
    repo: Annotated[str | None, typer.Option("--repo", help="OWNER/NAME or group/project.")] = None,
    pr: Annotated[int | None, typer.Option("--pr", help="Pull request number or MR iid.")] = None,
    commit: Annotated[
        str | None,
        typer.Option(
            "--commit", help="A commit instead of --pr: reviews from the PR/MR that merged it."
        ),
    ] = None,
    issue_pattern: Annotated[
        str | None,
        typer.Option(
            "--issue-pattern", help="Regex for linked issues (or GATEKEEPER_ISSUE_PATTERN)."
        ),
    ] = None,
    exclude_commit_authors: Annotated[
        bool,
        typer.Option("--exclude-commit-authors", help="Commit authors may not approve."),
    ] = False,
    run: Annotated[
        int | None,
        typer.Option("--run", help="GitHub: also the reports in this workflow run's artifacts."),
    ] = None,
    artifact: Annotated[
        str, typer.Option("--artifact", help="With --run: artifact names to read (glob).")
    ] = "*",
    pipeline: Annotated[
        int | None,
        typer.Option("--pipeline", help="GitLab: this pipeline's test report and job reports."),
    ] = None,
    output_format: Annotated[
        _output.FactsFormat, typer.Option("--format", help="Output format.")
    ] = _output.FactsFormat.text,
) -> None:
    """Collect review, check and change facts of a PR/MR or commit (token: GITHUB_/GITLAB_TOKEN).

    With --run (GitHub) also the reports in a workflow run's artifacts; with --pipeline (GitLab)
    that pipeline's test report and the report files of its jobs' artifacts.
    """
    target = providers.resolve_target(
        provider,
        api_url=api_url,
        repo=repo,
        number=pr,
        commit=commit,
        env=os.environ,
        require_number=run is None,
    )
    options = CollectOptions(exclude_commit_authors=exclude_commit_authors)
    if issue_pattern is not None:
        options = CollectOptions(
            exclude_commit_authors=exclude_commit_authors, issue_pattern=issue_pattern
        )
    settings = load_settings()
    session = Session(target, settings)
    if pipeline is not None:
        facts = _run.collect_pipeline(session, pipeline, settings=settings)
    elif run is None:
        facts = session.collect(options)
    else:
        pr_facts, run_facts = _run.collect_run(
            session, run, pattern=artifact, settings=settings, pr=pr
        )
        facts = combine(pr_facts, run_facts)
    if output_format is _output.FactsFormat.text:
        typer.echo(provider_text(facts))
    _output.print_facts(facts, output_format)
