"""Gatekeeper: a release quality gate for CI and a signed evidence store for ISO 9001 audits."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gatekeeper-evidence")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]
