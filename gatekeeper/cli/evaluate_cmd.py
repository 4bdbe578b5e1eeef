"""`gatekeeper evaluate`: gather facts, evaluate the policy, render the Verdict, store the
evidence (--submit), exit 0/1/2/3."""

from __future__ import annotations

import datetime as dt
import enum
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from connectors.evidence import Receipt
from connectors.facts_file import load_facts_file
from connectors.files import collect_report_facts
from connectors.interface import CollectOptions
from connectors.providers import Target
from connectors.release import FIRST_RELEASE_LIMIT
from gatekeeper.attest.predicate import policy_digest
from gatekeeper.cli import _base, _release, _run, _submit
from gatekeeper.cli._provider import (
    FeedbackChoices,
    ProviderChoice,
    Session,
    report_back,
    verdict_feedback,
)
from gatekeeper.config import Settings, load_settings
from gatekeeper.errors import EXIT_GATE_FAILED, EXIT_PASS, EvidenceNotStoredError, UsageError
from gatekeeper.facts import SECTIONS, Facts
from gatekeeper.policy import Verdict, evaluate, load_policy
from gatekeeper.policy.recompute import policy_document
from gatekeeper.policy.verdict import PolicyRef
from gatekeeper.render import render_verdict, verdict_markdown, verdict_text

LOG_WIDTH = 4000


class VerdictFormat(enum.StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


def combine(first: Facts, second: Facts) -> Facts:
    """Facts of `first` with every section `second` gives put over it; sources of both."""
    update: dict[str, object] = {s: getattr(second, s) for s in SECTIONS if getattr(second, s)}
    missing = {k: v for k, v in first.missing.items() if k.split(".")[0] not in update}
    missing.update(second.missing)
    update["missing"] = missing
    update["sources"] = (*first.sources, *second.sources)
    return first.model_copy(update=update)


def gather_facts(
    reports: list[str],
    facts_file: Path | None,
    *,
    diff: Path | None,
    base: str | None,
    settings: Settings,
    provider: Facts | None = None,
) -> Facts:
    """Facts from a provider, a saved facts file and report files; later ones win per section."""
    if diff is not None and base is not None:
        raise UsageError("give either --diff FILE or --base REF, not both")
    if not reports and facts_file is None and provider is None:
        raise UsageError("give --report PATH (repeatable), --facts FILE or --provider")
    facts = provider or Facts()
    if facts_file is not None:
        facts = combine(facts, load_facts_file(facts_file))
    if reports:
        facts = combine(
            facts, collect_report_facts(reports, diff=diff, base=base, settings=settings)
        )
    return facts


def _from_run(
    session: Session | None, run_id: int, pattern: str, settings: Settings, pr: int | None
) -> Facts:
    """The facts of a workflow run's artifacts over those of its pull request (or commit)."""
    if session is None:
        raise UsageError("--from-run needs --provider github (or a GitHub Actions job)")
    pr_facts, run_facts = _run.collect_run(
        session, run_id, pattern=pattern, settings=settings, pr=pr
    )
    return combine(pr_facts, run_facts)


def render(verdict: Verdict, facts: Facts, output_format: VerdictFormat) -> str:
    """The Verdict in the requested format (text without colour)."""
    if output_format is VerdictFormat.json:
        return json.dumps(verdict.to_json_dict(facts), indent=2) + "\n"
    if output_format is VerdictFormat.markdown:
        return verdict_markdown(verdict, facts)
    return verdict_text(verdict, facts)


def exit_code(verdict: Verdict) -> int:
    """0 when the gate passes (warnings allowed), 1 when it fails."""
    return EXIT_PASS if verdict.passed else EXIT_GATE_FAILED


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror}") from error


def _print_verdict(
    verdict: Verdict, facts: Facts, output: Path | None, output_format: VerdictFormat
) -> None:
    if output is not None:
        _write(output, render(verdict, facts, output_format))
    elif output_format is not VerdictFormat.text:
        typer.echo(render(verdict, facts, output_format), nl=False)
    elif sys.stdout.isatty():
        Console(highlight=False, emoji=False).print(render_verdict(verdict, facts))
    else:  # a CI log: one line per problem, never wrapped at Rich's default 80 columns
        typer.echo(verdict_text(verdict, facts, width=LOG_WIDTH), nl=False)


def _store_first(
    service: tuple[str, Callable[[], str]],
    settings: Settings,
    result: tuple[Verdict, Facts],
    target: Target | None,
    *,
    quiet: bool,
    spool: Path | None,
    document: Any = None,
) -> tuple[Receipt | None, EvidenceNotStoredError | None]:
    """Stores before feedback is written, so that the comment and summary can link the record;
    a statement not stored is returned as its error, raised (exit 3) once feedback is out."""
    url, token = service
    try:
        stored = _submit.store(
            url, token, settings, result, target, err=quiet, spool=spool, document=document
        )
        return stored, None
    except EvidenceNotStoredError as error:
        return None, error


def evaluate_command(
    *,
    policy: Annotated[Path, typer.Option("--policy", help="Policy file, or a ready policy name.")],
    reports: Annotated[
        list[str] | None, typer.Option("--report", help="Report file, folder or glob; repeatable.")
    ] = None,
    facts_file: Annotated[
        Path | None, typer.Option("--facts", help="Saved facts (gatekeeper inspect --format json).")
    ] = None,
    diff: Annotated[
        Path | None, typer.Option("--diff", help="Unified diff for patch coverage.")
    ] = None,
    base: Annotated[str | None, typer.Option("--base", help="Git ref for patch coverage.")] = None,
    output_format: Annotated[
        VerdictFormat, typer.Option("--format", help="Output format.")
    ] = VerdictFormat.text,
    output: Annotated[Path | None, typer.Option("--output", help="Write here, not stdout.")] = None,
    provider: Annotated[
        ProviderChoice | None,
        typer.Option("--provider", help="Facts and feedback from/to it."),
    ] = None,
    api_url: Annotated[str | None, typer.Option("--api-url", help="Provider API URL.")] = None,
    repo: Annotated[str | None, typer.Option("--repo", help="OWNER/NAME on the provider.")] = None,
    pr: Annotated[int | None, typer.Option("--pr", help="Pull request number or MR iid.")] = None,
    commit: Annotated[
        str | None, typer.Option("--commit", help="Gate this commit (reviews from its PR/MR).")
    ] = None,
    no_feedback: Annotated[
        bool, typer.Option("--no-feedback", help="Write nothing back to the provider or CI.")
    ] = False,
    no_comment: Annotated[
        bool, typer.Option("--no-comment", help="No sticky PR comment / MR note.")
    ] = False,
    summary_file: Annotated[
        Path | None, typer.Option("--summary-file", help="Write the Markdown verdict here.")
    ] = None,
    dotenv: Annotated[
        Path | None, typer.Option("--dotenv", help="Write GATEKEEPER_VERDICT=... here.")
    ] = None,
    from_run: Annotated[
        int | None,
        typer.Option(
            "--from-run",
            help="Reports from this GitHub workflow run's artifacts (and the facts of its PR).",
        ),
    ] = None,
    artifact: Annotated[
        str, typer.Option("--artifact", help="With --from-run: artifact names to read (glob).")
    ] = "*",
    pipeline: Annotated[
        int | None,
        typer.Option("--pipeline", help="GitLab: this pipeline's test report and job reports."),
    ] = None,
    submit: Annotated[
        str | None,
        typer.Option(
            "--submit",
            help="Store the evidence at this service URL (or GATEKEEPER_SUBMIT_URL); "
            "token from GATEKEEPER_TOKEN, else the CI job's OIDC ID token (GitHub Actions "
            "`id-token: write`, GitLab CI `id_tokens: GATEKEEPER_ID_TOKEN`).",
        ),
    ] = None,
    base_facts: Annotated[
        Path | None,
        typer.Option(
            "--base-facts",
            help="Saved facts of the base (merge-base) commit, for coverage.delta, "
            "tests.new_failures, tests.newly_skipped.",
        ),
    ] = None,
    base_from: Annotated[
        str | None,
        typer.Option(
            "--base-from",
            help="Read the base's facts from this evidence service (default: the --submit URL): "
            "the latest record of the merge-base of --base REF (or the PR/MR target) and HEAD.",
        ),
    ] = None,
    spool: Annotated[
        Path | None,
        typer.Option(
            "--spool",
            help="With --submit: keep a statement the service could not be reached for in this "
            "folder (exit 3 still); send it later with `gatekeeper submit --spool DIR`.",
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            envvar="GATEKEEPER_RELEASE_SINCE",
            help="Release, first one (no earlier tag matches): list the changes after this "
            "ref, not from the repository's start.",
        ),
    ] = None,
    release_pattern: Annotated[
        str,
        typer.Option(
            "--release-pattern",
            envvar="GATEKEEPER_RELEASE_PATTERN",
            help="Release: the tags that are releases (glob, as versions).",
        ),
    ] = "v*",
    release_limit: Annotated[
        str,
        typer.Option(
            "--release-limit",
            envvar="GATEKEEPER_RELEASE_LIMIT",
            help="Release, first one without --since: list at most this many commits back "
            f"from the tag (1 to {_release.MAX_RELEASE_LIMIT}); the record states it.",
        ),
    ] = str(FIRST_RELEASE_LIMIT),
) -> None:
    """Evaluate a policy over the facts; exit 0 pass, 1 fail, 2 bad input, 3 not stored."""
    settings = load_settings()
    choice = _release.release_choice(since, release_pattern, release_limit)
    url = _submit.submit_url(submit, settings)
    loaded = load_policy(policy, budget=settings.expression_budget)
    target = _submit.resolve_target(provider, api_url, repo, pr, commit, env=os.environ)
    known = target is not None or (repo is not None and commit is not None)
    token = _submit.check_ready(url, settings, subject_known=known, env=os.environ) if url else None
    session = Session(target, settings) if target is not None else None
    given: Facts | None = None
    if from_run is not None:
        given = _from_run(session, from_run, artifact, settings, pr)
    elif pipeline is not None:
        if session is None:
            raise UsageError("--pipeline needs --provider gitlab (or a GitLab CI job)")
        given = _run.collect_pipeline(session, pipeline, settings=settings)
    else:
        pattern = loaded.policy.issue_pattern
        options = CollectOptions(issue_pattern=pattern) if pattern else None
        given = session.collect(options) if session is not None and session.can_collect else None
    facts = gather_facts(
        reports or [], facts_file, diff=diff, base=base, settings=settings, provider=given
    )
    if target is None:
        facts = _submit.with_subject(facts, repo=repo, commit=commit)
    elif session is not None and _release.is_release(facts, target.ci.event if target.ci else None):
        read = os.environ.get("GATEKEEPER_READ_TOKEN") or (token() if token else None)
        facts = _release.with_release(session, facts, (url, read), choice=choice)
    if url is not None:
        _submit.require_subject(facts)
    facts = _base.apply_base(
        facts, base_facts=base_facts, base_from=base_from or url, base=base, settings=settings
    )
    verdict = evaluate(
        loaded, facts, now=dt.datetime.now(dt.UTC), budget=settings.expression_budget
    )
    document = policy_document(loaded)
    shown = _as_recorded(verdict, document)
    _print_verdict(shown, facts, output, output_format)
    run_url = target.ci.run_url if target is not None and target.ci is not None else None
    receipt, not_stored = None, None
    if url is not None and token is not None:
        quiet = output is None and output_format is not VerdictFormat.text
        receipt, not_stored = _store_first(
            (url, token),
            settings,
            (verdict, facts),
            target,
            quiet=quiet,
            spool=spool,
            document=document,
        )
    record_url = _submit.record_page_url(url, receipt) if url and receipt else None
    report_back(
        session,
        verdict_feedback(shown, facts, details_url=run_url, record_url=record_url),
        FeedbackChoices(not no_feedback, not no_comment, dotenv, summary_file),
        head=facts.subject.commit if facts.subject is not None else None,
    )
    if not_stored is not None:
        raise not_stored
    if receipt is not None:
        _submit.publish_record_id(receipt, target, dotenv=dotenv, enabled=not no_feedback)
    raise typer.Exit(exit_code(verdict))


def _as_recorded(verdict: Verdict, document: Any) -> Verdict:
    """`verdict` naming the policy by the digest its record carries: the SHA-256 of the policy
    document's canonical JSON (what `policy publish` prints), when the policy has a document."""
    if document is None:
        return verdict
    policy = PolicyRef(name=verdict.policy.name, digest=policy_digest(document))
    return verdict.model_copy(update={"policy": policy})
