"""One router per resource: evidence (and its VSA), policies, log, keys, export, health."""

from gatekeeper.service.routers import evidence, export, health, keys, log, policies, vsa

__all__ = ["evidence", "export", "health", "keys", "log", "policies", "vsa"]
