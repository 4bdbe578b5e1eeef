"""Logging set-up for entry points, with a filter that masks every registered secret."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

MASK = "***"


class SecretMaskFilter(logging.Filter):
    """Replaces every known secret in a log record's final message with `***`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: set[str] = {s for s in secrets if s}

    def add(self, secret: str | None) -> None:
        """Registers one more secret to mask (ignored when empty)."""
        if secret and len(secret) >= 4:
            self._secrets.add(secret)

    def mask(self, text: str) -> str:
        """`text` with every registered secret replaced."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self.mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


SECRETS = SecretMaskFilter()
"""The process-wide filter: connectors register tokens here as soon as they read them."""


OWN_LOGGERS = ("gatekeeper", "connectors")
SDK_LOGGERS = ("github", "gitlab", "urllib3", "httpx", "httpcore")
"""The clients' loggers: DEBUG only at -vv, where they may print requests (masked all the same)."""


class _MaskingFormatter(logging.Formatter):
    """Masks secrets in the whole formatted record, tracebacks and `extra` text included."""

    def format(self, record: logging.LogRecord) -> str:
        return SECRETS.mask(super().format(record))


def configure(verbosity: int) -> None:
    """Log to stderr: WARNING; -v Gatekeeper's own loggers at INFO; -vv them and the SDKs at DEBUG.

    The root logger stays at WARNING whatever the verbosity, so no other library turns chatty.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_MaskingFormatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SECRETS)
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    own = logging.DEBUG if verbosity >= 2 else logging.INFO if verbosity == 1 else logging.NOTSET
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(own)
    for name in SDK_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if verbosity >= 2 else logging.NOTSET)
