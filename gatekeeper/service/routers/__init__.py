"""One router per resource: evidence, log, keys, export, health."""

from gatekeeper.service.routers import evidence, export, health, keys, log

__all__ = ["evidence", "export", "health", "keys", "log"]
