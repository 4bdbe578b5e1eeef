"""`evaluate --submit`: the subject of the evidence, the statement, the receipt and its outputs.

The statement's predicate is the Verdict, the Facts, the policy digest, the CI run (provider, run
URL, actor) and the tool versions (Gatekeeper and the report producers, ISO 9001 7.1.5). A failed
gate is stored like a passing one (ISO 9001 8.7).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import typer

from connectors._oidc_token import ID_TOKEN_VARIABLE, id_token_source
from connectors.ci_env import detect_ci, write_github_output
from connectors.evidence import EvidenceClient, Receipt, build_verdict_statement
from connectors.providers import PROVIDERS, Target
from gatekeeper import __version__
from gatekeeper.attest.predicate import carried_policy
from gatekeeper.cli import _spool
from gatekeeper.cli._provider import DOTENV_NAME, optional_target
from gatekeeper.config import Settings
from gatekeeper.errors import (
    EvidenceNotStoredError,
    EvidenceRefusedError,
    InputError,
    UsageError,
)
from gatekeeper.facts import Facts, Subject
from gatekeeper.policy import Verdict

NO_SUBJECT = (
    "--submit stores evidence about one commit, and none is known here: "
    "pass --repo OWNER/NAME and --commit SHA (or run inside GitHub Actions or GitLab CI)"
)


def submit_url(flag: str | None, settings: Settings) -> str | None:
    """The service URL from --submit, else GATEKEEPER_SUBMIT_URL; None when not submitting."""
    url = flag or settings.submit_url
    return url.strip() or None if url else None


def resolve_target(
    provider: str | None,
    api_url: str | None,
    repo: str | None,
    pr: int | None,
    commit: str | None,
    *,
    env: Mapping[str, str],
) -> Target | None:
    """The provider target, or None outside CI when no provider is named: then --repo and
    --commit only name the subject of the evidence and no provider is asked."""
    if provider is None and api_url is None and pr is None and detect_ci(env) is None:
        return None
    return optional_target(provider, api_url=api_url, repo=repo, number=pr, commit=commit, env=env)


TokenSource = Callable[[], str]
"""Gives the bearer token when the statement is sent (a CI ID token is requested then)."""


def check_ready(
    url: str, settings: Settings, *, subject_known: bool, env: Mapping[str, str]
) -> TokenSource:
    """Where the token comes from: GATEKEEPER_TOKEN, else the CI job's OIDC ID token; a
    UsageError (exit 2) before any work when submitting cannot succeed."""
    token = settings.token.get_secret_value().strip() if settings.token is not None else ""
    source = None if token else id_token_source(env, settings.id_token_audience)
    if not token and source is None:
        raise UsageError(
            f"--submit {url} needs an ingest token of the evidence service in GATEKEEPER_TOKEN, "
            "or the CI job's ID token (GitHub Actions: `permissions: id-token: write`; "
            f"GitLab CI: `id_tokens: {ID_TOKEN_VARIABLE}:`)"
        )
    if not subject_known:
        raise UsageError(NO_SUBJECT)
    if source is not None:
        ci_source = source
        return lambda: ci_source.token(settings.submit_timeout)
    return lambda: token


def require_subject(facts: Facts) -> None:
    """A UsageError (exit 2) when the facts name no repository and commit to store evidence of."""
    if facts.subject is None or facts.subject.repo is None or facts.subject.commit is None:
        raise UsageError(NO_SUBJECT)


def with_subject(facts: Facts, *, repo: str | None, commit: str | None) -> Facts:
    """`facts` whose subject names `repo` and `commit` where the sources named none."""
    subject = facts.subject or Subject()
    update = {
        key: value
        for key, value in (("repo", repo), ("commit", commit))
        if value is not None and getattr(subject, key) is None
    }
    if not update:
        return facts
    missing = {k: v for k, v in facts.missing.items() if k != "subject"}
    return facts.model_copy(
        update={"subject": subject.model_copy(update=update), "missing": missing}
    )


def ci_run(target: Target | None) -> dict[str, str]:
    """The CI run of the evidence: provider, run URL, actor, event, ref (what is known)."""
    ci = target.ci if target is not None else None
    if ci is None:
        return {"provider": "local"}
    values = {
        "provider": ci.provider,
        "run_url": ci.run_url,
        "actor": ci.actor,
        "event": ci.event,
        "ref": ci.ref,
    }
    return {key: value for key, value in values.items() if value}


def tools(facts: Facts) -> dict[str, Any]:
    """Versions of the measuring tools: Gatekeeper and each report's producer (ISO 9001 7.1.5)."""
    reports = [
        {
            key: value
            for key, value in (
                ("location", source.location),
                ("format", source.format),
                ("producer", source.producer),
            )
            if value
        }
        for source in facts.sources
        if source.kind == "report"
    ]
    return {"gatekeeper": __version__, "reports": reports}


def statement(
    verdict: Verdict, facts: Facts, target: Target | None, document: Any = None
) -> dict[str, Any]:
    """The in-toto statement of this gate result; with the policy `document` carried (so that
    the service and auditors can evaluate it again) when the policy has one."""
    judged = verdict.to_json_dict()
    if document is not None:
        judged = carried_policy(judged, document)
    return build_verdict_statement(judged, facts.to_json_dict(), ci_run(target), tools(facts))


def submit(
    url: str, token: str, settings: Settings, body: Mapping[str, Any], *, project: str | None = None
) -> Receipt:
    """Stores the statement (project: its repository unless given), retrying with backoff;
    exit 3 if not."""
    with EvidenceClient(
        url,
        token,
        retries=settings.submit_retries,
        backoff=settings.submit_backoff,
        timeout=settings.submit_timeout,
    ) as client:
        return client.submit(project or str(body["subject"][0]["name"]), body)


def receipt_line(receipt: Receipt, url: str) -> str:
    """One line naming the stored record."""
    state = "stored" if receipt.created else "already stored"
    return (
        f"Evidence {state}: record {receipt.record_id}, log index {receipt.log_index} "
        f"({url.rstrip('/')}/v1/evidence/{receipt.record_id})"
    )


def record_page_url(url: str, receipt: Receipt) -> str:
    """The auditor page of the stored record."""
    return f"{url.rstrip('/')}/records/{receipt.record_id}"


def publish_record_id(
    receipt: Receipt, target: Target | None, *, dotenv: Path | None, enabled: bool
) -> None:
    """`record-id` to $GITHUB_OUTPUT; GATEKEEPER_RECORD_ID to the dotenv report (--dotenv, or
    the one a GitLab CI job writes)."""
    ci = target.ci if target is not None else None
    if enabled and ci is not None and ci.output is not None:
        write_github_output(ci.output, {"record-id": receipt.record_id})
    if enabled and dotenv is None and ci is not None and PROVIDERS[ci.provider].ci_dotenv:
        dotenv = Path(DOTENV_NAME)
    if dotenv is not None:
        try:
            with dotenv.open("a", encoding="utf-8") as handle:
                handle.write(f"GATEKEEPER_RECORD_ID={receipt.record_id}\n")
        except OSError as error:
            raise InputError(dotenv, f"cannot write ({error.strerror})") from error


def store(
    url: str,
    token: TokenSource,
    settings: Settings,
    result: tuple[Verdict, Facts],
    target: Target | None,
    *,
    err: bool,
    spool: Path | None = None,
    document: Any = None,
) -> Receipt:
    """Builds, stores and announces the evidence of one gate result (exit 3 when not stored).
    With `spool`, a statement the service could not be reached for is kept there first."""
    verdict, facts = result
    body = statement(verdict, facts, target, document)
    try:
        receipt = submit(url, token(), settings, body)
    except EvidenceRefusedError:
        raise
    except EvidenceNotStoredError as error:
        if spool is None:
            raise
        kept = _spool.keep(spool, str(body["subject"][0]["name"]), body)
        raise EvidenceNotStoredError(
            f"{error}; the statement is kept in {kept}: send it later with "
            f"`gatekeeper submit --spool {spool}`"
        ) from error
    typer.echo(receipt_line(receipt, url), err=err)
    return receipt
