"""`gatekeeper policy validate|explain|test`: check, explain and test policy files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from gatekeeper.errors import EXIT_GATE_FAILED
from gatekeeper.policy import load_policy
from gatekeeper.policy.cases import run_cases
from gatekeeper.policy.explain import explain_policy

app = typer.Typer(help="Check, explain and test policy files.", no_args_is_help=True)

PolicyArg = Annotated[Path, typer.Argument(help="Policy file, or a ready policy name.")]


@app.command("validate")
def validate(policy: PolicyArg) -> None:
    """Check a policy file (and what it extends) without evaluating it; exit 2 when invalid."""
    loaded = load_policy(policy)
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
    results = run_cases(folder, now=dt.datetime.now(dt.UTC))
    for result in results:
        typer.echo(f"{'PASS' if result.passed else 'FAIL'} {result.file}: {result.name}")
        for problem in result.problems:
            typer.echo(f"     {problem}")
    failed = sum(not result.passed for result in results)
    typer.echo(f"{len(results) - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(EXIT_GATE_FAILED)
