"""The Typer application, its global options, and the one place that maps errors to exit codes."""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from typing import Annotated

import typer
import typer.core
import typer.main
from typer import _click as click  # Typer's own (vendored) click, whose types its group uses

from gatekeeper import __version__, logs
from gatekeeper.cli import _log_guard
from gatekeeper.cli._errors import report_error
from gatekeeper.errors import EXIT_BAD_INPUT, GatekeeperError, MissingExtraError

# Each command is imported only when it runs (or for --help), so `gatekeeper inspect` does not
# pay for PyGithub, FastAPI or the CEL library: name -> (module, attribute).
COMMANDS: dict[str, tuple[str, str]] = {
    "inspect": ("gatekeeper.cli.inspect_cmd", "inspect"),
    "evaluate": ("gatekeeper.cli.evaluate_cmd", "evaluate_command"),
    "policy": ("gatekeeper.cli.policy_cmd", "app"),
    "collect": ("gatekeeper.cli.collect_cmd", "collect"),
    "serve": ("gatekeeper.cli.serve_cmd", "serve"),
    "db": ("gatekeeper.cli.db_cmd", "db_app"),
    "tokens": ("gatekeeper.cli.tokens_cmd", "tokens_app"),
    "keys": ("gatekeeper.cli.keys_cmd", "keys_app"),
    "verify": ("gatekeeper.cli.verify_cmd", "verify"),
    "submit": ("gatekeeper.cli.submit_cmd", "submit_command"),
    "witness": ("gatekeeper.cli.witness_cmd", "witness"),
    "log": ("gatekeeper.cli.log_cmd", "log_app"),
}

# The top-level modules of the `[service]` extra: a command that needs one of them and finds it
# missing is the slim install, not a bug.
SERVICE_MODULES = frozenset(
    {
        "fastapi",
        "starlette",
        "sqlalchemy",
        "alembic",
        "psycopg",
        "uvicorn",
        "prometheus_client",
        "jinja2",
    }
)


def _needs_service(cmd_name: str, missing: str) -> click.Command:
    """A stand-in for a command whose module needs the service stack that is not installed."""

    def refuse() -> None:
        raise MissingExtraError(
            f"`gatekeeper {cmd_name}` needs the evidence service ({missing} is not installed): "
            "install it with pip install 'gatekeeper-evidence[service]'"
        )

    single = typer.Typer(add_completion=False)
    single.command(
        cmd_name,
        help="Needs the evidence service: install the service extra of gatekeeper-evidence.",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        add_help_option=False,
    )(refuse)
    return typer.main.get_command(single)


class _LazyGroup(typer.core.TyperGroup):
    """A command group that imports a command's module the first time the command is needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module_name, attribute = COMMANDS[cmd_name]
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as error:
                missing = (error.name or "").partition(".")[0]
                if missing not in SERVICE_MODULES:
                    raise
                self.commands[cmd_name] = _needs_service(cmd_name, missing)
                return self.commands[cmd_name]
            target = getattr(module, attribute)
            command: click.Command
            if isinstance(target, typer.Typer):
                command = typer.main.get_group(target)
            else:
                single = typer.Typer(
                    add_completion=False, context_settings={"help_option_names": ["-h", "--help"]}
                )
                single.command(cmd_name)(target)
                command = typer.main.get_command(single)
            command.name = cmd_name
            self.commands[cmd_name] = command
        return self.commands.get(cmd_name)


app = typer.Typer(
    cls=_LazyGroup,
    name="gatekeeper",
    help="Release quality gate for CI, and a signed evidence store for ISO 9001 audits.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class _State:
    verbosity = 0


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"gatekeeper {__version__}")
        raise typer.Exit(0)


@app.callback()
def _global_options(
    verbosity: Annotated[
        int,
        typer.Option(
            "--verbose",
            "-v",
            count=True,
            show_default=False,
            help="-v: log progress and show tracebacks on errors; -vv: debug, with the SDKs.",
        ),
    ] = 0,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Release quality gate for CI, and a signed evidence store for ISO 9001 audits."""
    _State.verbosity = verbosity
    logs.configure(verbosity)


def main() -> None:
    """Entry point: runs the app and turns every error into one line on stderr and an exit code."""
    _log_guard.install()
    try:
        app()
    except GatekeeperError as error:
        if _State.verbosity:
            print(logs.SECRETS.mask(traceback.format_exc()), file=sys.stderr)
        report_error(error, os.environ, sys.stderr)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as error:  # a bug: still one line unless --verbose
        if _State.verbosity:
            print(logs.SECRETS.mask(traceback.format_exc()), file=sys.stderr)
        print(
            f"error: internal error ({type(error).__name__}: {logs.SECRETS.mask(str(error))}); "
            "run with --verbose for details and report it",
            file=sys.stderr,
        )
        sys.exit(EXIT_BAD_INPUT)
