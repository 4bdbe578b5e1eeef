"""The one exception tree of Gatekeeper.

Every error carries a sentence for the user, the exit code the CLI ends with and an optional hint
(what to do next), which the CLI prints on a line of its own::

    GatekeeperError                  exit 2 unless a subclass says otherwise
    ├── UsageError                   bad flags or a combination that makes no sense
    │   └── MissingExtraError        the command needs `gatekeeper-evidence[service]`
    ├── InputError                   a file we were given cannot be used (names file, line, column)
    │   ├── ReportError              a test or coverage report
    │   ├── PolicyError              a policy file or a Rego module
    │   └── FactsError               a saved facts JSON file
    ├── ConnectorError               a provider (GitHub, GitLab) refused or failed
    │   ├── ProviderError            (connectors.interface) an API call failed after retries
    │   │   ├── RateLimitError       the provider's rate limit outlasted the wait budget
    │   │   └── ProviderPermissionError  also a ProviderAuthError
    │   └── ProviderAuthError        401/403/404: missing permission or wrong repository
    ├── AttestError (ValueError)     canonical JSON, a statement or a key cannot be read or built
    │   ├── CanonicalJSONError       (attest.canonical)
    │   ├── StatementError           (attest.statement)
    │   └── KeyFormatError           (attest.keys)
    ├── LedgerError (ValueError)     a Merkle tree, proof request, checkpoint or bundle misused
    ├── VerificationError            exit 1: evidence failed offline verification
    ├── ServiceError                 the evidence service's own configuration or storage
    │   └── ApiError                 (service.problems) answered as a JSON problem with a status
    └── EvidenceNotStoredError       exit 3: the service could not store the evidence

AttestError and LedgerError are also ValueErrors, so callers written against the plain
ValueErrors these modules raised before still catch them.

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

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(GatekeeperError):
    """The command was called with flags that cannot work together or are missing."""


class MissingExtraError(UsageError):
    """The command needs an optional part of the package (an extra) that is not installed."""


class InputError(GatekeeperError):
    """A file cannot be used; the message names the file and, where known, line and column."""

    def __init__(
        self,
        source: str | Path,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
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
        super().__init__(f"{where}: {message}", hint=hint)


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


class AttestError(GatekeeperError, ValueError):
    """Canonical JSON, an in-toto statement or a key that cannot be read or built."""


class LedgerError(GatekeeperError, ValueError):
    """A Merkle tree, a proof request, a checkpoint or a bundle used outside its contract."""


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
