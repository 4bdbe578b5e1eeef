"""The `gatekeeper` command."""

from gatekeeper.cli.app import app, main

__all__ = ["app", "main"]
