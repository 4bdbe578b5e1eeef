"""`--run`/`--from-run` (GitHub workflow run artifacts), `--pipeline` (GitLab job artifacts)."""

from __future__ import annotations

from connectors.github import GitHub
from connectors.gitlab import GitLab
from gatekeeper.cli._provider import Session
from gatekeeper.config import Settings
from gatekeeper.errors import UsageError
from gatekeeper.facts import Facts


def collect_run(
    session: Session, run_id: int, *, pattern: str, settings: Settings, pr: int | None
) -> tuple[Facts, Facts]:
    """(facts of the run's pull request or commit, facts of the run's artifacts).

    The PR is `pr` when given (its head must be the run's head), else the one the run names or
    whose head it is; without one, the run's head commit (reviews from the PR that merged it)."""
    connection = session.connection
    if not isinstance(connection, GitHub):
        raise UsageError("--run/--from-run is for GitHub workflow runs; on GitLab use --pipeline")
    collector = connection.run_collector(
        run_id, pattern=pattern, max_report_bytes=settings.max_report_bytes
    )
    head = collector.head()
    run_facts = collector.collect()
    number = pr if pr is not None else head.pull_number
    session.target = session.target.model_copy(update={"number": number, "commit": head.commit})
    pr_facts = session.collect()
    found = pr_facts.subject.commit if pr_facts.subject is not None else None
    if number is not None and found != head.commit:
        raise UsageError(
            f"pull request #{number} has head {str(found)[:12]}, but workflow run {run_id} ran "
            f"{head.commit[:12]}: the run's reports are not about this pull request's head"
        )
    return pr_facts, run_facts.model_copy(update={"subject": None})


def collect_pipeline(session: Session, pipeline_id: int, *, settings: Settings) -> Facts:
    """The facts of the target's MR (or commit) with pipeline `pipeline_id`'s test report and its
    jobs' report artifacts (line-level coverage, full failure details)."""
    connection, target = session.connection, session.target
    if not isinstance(connection, GitLab):
        raise UsageError("--pipeline is for GitLab pipelines; on GitHub use --run")
    if target.number is None and target.commit is None:
        raise UsageError("give --pr N (the MR iid) or --commit SHA with --pipeline")
    collector = connection.collector(
        target.number,
        commit=target.commit,
        ref=target.ref,
        pipeline=pipeline_id,
        max_report_bytes=settings.max_report_bytes,
    )
    try:
        return collector.collect()
    finally:
        session.log_count()
