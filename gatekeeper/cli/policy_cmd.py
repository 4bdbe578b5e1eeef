"""`gatekeeper policy validate|explain|test|publish`: check, explain, test and publish policies."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import httpx
import typer

from gatekeeper import logs
from gatekeeper.config import load_settings
from gatekeeper.errors import (
    EXIT_BAD_INPUT,
    EXIT_GATE_FAILED,
    EvidenceNotStoredError,
    UsageError,
)
from gatekeeper.policy import load_policy
from gatekeeper.policy.cases import run_cases
from gatekeeper.policy.explain import explain_policy
from gatekeeper.policy.problems import PolicyProblemsError
from gatekeeper.policy.recompute import policy_document
from gatekeeper.render.escape import terminal_text

app = typer.Typer(help="Check, explain, test and publish policy files.", no_args_is_help=True)

PolicyArg = Annotated[Path, typer.Argument(help="Policy file, or a ready policy name.")]


@contextlib.contextmanager
def _every_problem() -> Iterator[None]:
    """Several policy problems as ruff prints them: one `error:` line each, then the count."""
    try:
        yield
    except PolicyProblemsError as error:
        for problem in error.problems:
            typer.echo(f"error: {terminal_text(str(problem))}", err=True)
        typer.echo(f"Found {len(error.problems)} problems.", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from error


@app.command("validate")
def validate(policy: PolicyArg) -> None:
    """Check a policy file (and what it extends) without evaluating it; every problem is one
    line (file:line:col); exit 2 when invalid."""
    settings = load_settings()
    with _every_problem():
        loaded = load_policy(policy, budget=settings.expression_budget)
    typer.echo(
        f"{loaded.source}: valid policy {loaded.name}, {len(loaded.rules)} rules, "
        f"sha256 {loaded.digest}"
    )


@app.command("explain")
def explain(policy: PolicyArg) -> None:
    """Print each rule of a policy in plain words."""
    typer.echo(explain_policy(load_policy(policy)), nl=False)


@app.command("test")
def test(
    folder: Annotated[Path, typer.Argument(help="Folder holding *_test.yml case files.")],
) -> None:
    """Run the policy test cases under a folder; exit 1 when any case fails."""
    with _every_problem():
        results = run_cases(folder, now=dt.datetime.now(dt.UTC))
    for result in results:
        typer.echo(f"{'PASS' if result.passed else 'FAIL'} {result.file}: {result.name}")
        for problem in result.problems:
            typer.echo(f"     {problem}")
    failed = sum(not result.passed for result in results)
    typer.echo(f"{len(results) - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(EXIT_GATE_FAILED)


@app.command("publish")
def publish(
    policy: PolicyArg,
    project: Annotated[str, typer.Option("--project", help="The project (owner/name).")],
    note: Annotated[str | None, typer.Option("--note", help="Why this version.")] = None,
    service: Annotated[
        str | None,
        typer.Option("--service", help="Evidence service URL (or GATEKEEPER_SERVICE_URL)."),
    ] = None,
) -> None:
    """Publish a policy version for a project (admin token in GATEKEEPER_TOKEN): from then on
    the service accepts only evidence judged by a published version of that project."""
    settings = load_settings()
    url = service or settings.service_url
    if not url:
        raise UsageError("give --service URL (or set GATEKEEPER_SERVICE_URL) to publish to")
    if settings.token is None:
        raise UsageError("set GATEKEEPER_TOKEN to an admin token of the evidence service")
    loaded = load_policy(policy)
    document = policy_document(loaded)
    if document is None:
        raise UsageError(f"{loaded.source}: a policy with Rego rules cannot be published yet")
    token = settings.token.get_secret_value()
    logs.SECRETS.add(token)
    body = {"project": project, "document": document, "note": note}
    endpoint = url.rstrip("/") + "/v1/policies"
    try:
        response = httpx.post(
            endpoint,
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=settings.submit_timeout,
        )
    except httpx.HTTPError as error:
        raise EvidenceNotStoredError(f"cannot reach {endpoint}: {error}") from error
    if response.status_code not in (200, 201):
        try:
            message = str(response.json()["error"]["message"])
        except (ValueError, KeyError, TypeError):
            message = response.text[:200].strip() or response.reason_phrase
        raise UsageError(f"{endpoint} refused the policy: HTTP {response.status_code}: {message}")
    found = response.json()
    state = "published" if response.status_code == 201 else "already published"
    typer.echo(
        f"Policy {found['name']} sha256:{found['digest']} {state} for {project} "
        f"(record {found['record_id']}, {found['published_at']})"
    )
