"""gatekeeper.service: the evidence service (FastAPI) and its append-only store.

`create_app(settings)` builds the app; `EvidenceStore` appends and queries; `tables` holds the
schema every Alembic revision builds.
"""

from gatekeeper.service.app import create_app, open_context
from gatekeeper.service.store import AppendResult, EvidenceStore, StatementMeta

__all__ = ["AppendResult", "EvidenceStore", "StatementMeta", "create_app", "open_context"]
