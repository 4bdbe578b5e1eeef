"""The Typer application, its global options, and the one place that maps errors to exit codes."""

from __future__ import annotations

import sys
import traceback
from typing import Annotated

import typer

from gatekeeper import __version__, logs
from gatekeeper.cli import (
    collect_cmd,
    db_cmd,
    evaluate_cmd,
    inspect_cmd,
    keys_cmd,
    policy_cmd,
    serve_cmd,
    tokens_cmd,
    verify_cmd,
)
from gatekeeper.errors import EXIT_BAD_INPUT, GatekeeperError

app = typer.Typer(
    name="gatekeeper",
    help="Release quality gate for CI, and a signed evidence store for ISO 9001 audits.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class _State:
    verbose = False


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"gatekeeper {__version__}")
        raise typer.Exit(0)


@app.callback()
def _global_options(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log progress and show tracebacks on errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Release quality gate for CI, and a signed evidence store for ISO 9001 audits."""
    _State.verbose = verbose
    logs.configure(verbose)


app.command("inspect")(inspect_cmd.inspect)
app.command("evaluate")(evaluate_cmd.evaluate_command)
app.add_typer(policy_cmd.app, name="policy")
app.command("collect")(collect_cmd.collect)
app.command("serve")(serve_cmd.serve)
app.add_typer(db_cmd.db_app, name="db")
app.add_typer(tokens_cmd.tokens_app, name="tokens")
app.add_typer(keys_cmd.keys_app, name="keys")
app.command("verify")(verify_cmd.verify)


def main() -> None:
    """Entry point: runs the app and turns every error into one line on stderr and an exit code."""
    try:
        app()
    except GatekeeperError as error:
        if _State.verbose:
            print(logs.SECRETS.mask(traceback.format_exc()), file=sys.stderr)
        print(f"error: {logs.SECRETS.mask(str(error))}", file=sys.stderr)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as error:  # a bug: still one line unless --verbose
        if _State.verbose:
            print(logs.SECRETS.mask(traceback.format_exc()), file=sys.stderr)
        print(
            f"error: internal error ({type(error).__name__}: {logs.SECRETS.mask(str(error))}); "
            "run with --verbose for details and report it",
            file=sys.stderr,
        )
        sys.exit(EXIT_BAD_INPUT)
