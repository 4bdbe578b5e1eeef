"""One router per resource: evidence (and its VSA), policies, log, keys, export, report, health."""

from gatekeeper.service.routers import evidence, export, health, keys, log, policies, reports, vsa

__all__ = ["evidence", "export", "health", "keys", "log", "policies", "reports", "vsa"]
