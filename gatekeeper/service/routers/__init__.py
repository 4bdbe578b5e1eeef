"""One router per resource: evidence (and its VSA), log, keys, export, health."""

from gatekeeper.service.routers import evidence, export, health, keys, log, vsa

__all__ = ["evidence", "export", "health", "keys", "log", "vsa"]
