"""The one exception tree of Gatekeeper.

Every error carries a sentence for the user and the exit code the CLI ends with::

    GatekeeperError                  exit 2 unless a subclass says otherwise
    ├── UsageError                   bad flags or a combination that makes no sense
    ├── InputError                   a file we were given cannot be used (names file, line, column)
    │   ├── ReportError              a test or coverage report
    │   ├── PolicyError              a policy file or a Rego module
    │   └── FactsError               a saved facts JSON file
    ├── ConnectorError               a provider (GitHub, GitLab) refused or failed
    │   └── ProviderAuthError        401/403/404: missing permission or wrong repository
    ├── VerificationError            an evidence bundle or record failed offline verification
    ├── ServiceError                 the evidence service's own configuration or storage
    └── EvidenceNotStoredError       exit 3: the service could not store the evidence

A failed gate is not an error: it is a Verdict, and the CLI maps it to exit 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

EXIT_PASS = 0
EXIT_GATE_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_NOT_STORED = 3


class GatekeeperError(Exception):
    """Base of every error Gatekeeper raises on purpose; `str()` is the user's sentence."""

    exit_code: ClassVar[int] = EXIT_BAD_INPUT

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(GatekeeperError):
    """The command was called with flags that cannot work together or are missing."""


class InputError(GatekeeperError):
    """A file cannot be used; the message names the file and, where known, line and column."""

    def __init__(
        self,
        source: str | Path,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.source = str(source)
        self.line = line
        self.column = column
        self.detail = message
        where = self.source
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {message}")


class ReportError(InputError):
    """A test or coverage report is unreadable, malformed, hostile or of an unknown format."""


class PolicyError(InputError):
    """A policy file (or a Rego module it names) is invalid."""


class FactsError(InputError):
    """A saved facts JSON file is invalid."""


class ConnectorError(GatekeeperError):
    """A provider API failed after retries, or answered something we cannot use."""


class ProviderAuthError(ConnectorError):
    """The provider refused the token (401/403) or cannot see the repository (404)."""


class VerificationError(GatekeeperError):
    """Offline verification of evidence failed; the message names what failed."""

    exit_code: ClassVar[int] = EXIT_GATE_FAILED


class ServiceError(GatekeeperError):
    """The evidence service cannot run: bad configuration, outdated schema, unusable key."""


class EvidenceNotStoredError(GatekeeperError):
    """The evidence service could not store the evidence, even after retries."""

    exit_code: ClassVar[int] = EXIT_NOT_STORED


class EvidenceRefusedError(EvidenceNotStoredError):
    """The evidence service answered and refused the evidence (sending it again will not help)."""
