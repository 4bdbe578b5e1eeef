"""Gatekeeper: a release quality gate for CI and a signed evidence store for ISO 9001 audits."""

# The one place the version is written; pyproject.toml reads it from here (importlib.metadata
# would cost ~90 ms at every start of the command).
__version__ = "0.1.0"

__all__ = ["__version__"]
