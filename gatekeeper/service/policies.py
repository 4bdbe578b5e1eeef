"""Published policies (ISO 9001 7.5.3 for the process definition): register, list, enforce.

A publication is itself a signed record in the log: an in-toto Statement of predicate type
`POLICY_PREDICATE_TYPE` whose subject is the project with the policy's digest (`sha256`: the
SHA-256 of the document's RFC 8785 canonical JSON) and whose predicate holds the name, digest,
document, who published it, when, and the note. The `policies` row beside it (append-only, like
the records) is what ingest reads: a project with published policies refuses (422) evidence
judged by any other digest, so a pull request cannot weaken the gate that judges it.
"""

from __future__ import annotations

import json
import threading
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from gatekeeper.attest.canonical import canonical_json
from gatekeeper.attest.predicate import VerdictPredicate, policy_digest
from gatekeeper.errors import PolicyError
from gatekeeper.policy.recompute import load_document
from gatekeeper.service._clock import utc_now
from gatekeeper.service.database import driver_sql
from gatekeeper.service.problems import ApiError
from gatekeeper.service.store import EvidenceStore, StatementMeta
from gatekeeper.service.tables import PolicyRow

__all__ = [
    "POLICY_PREDICATE_TYPE",
    "PublishedPolicy",
    "check_published",
    "list_policies",
    "publish_policy",
]

POLICY_PREDICATE_TYPE = "https://github.com/gatekeeper-evidence/gatekeeper/predicates/policy/v1"
_STATEMENT_TYPE = "https://in-toto.io/Statement/v1"


@dataclass(frozen=True)
class _Publication:
    digest: str
    name: str
    published_at: str


@dataclass(frozen=True)
class PublishedPolicy:
    """One published version: what `GET /v1/policies` lists."""

    project: str
    digest: str
    name: str
    document: Any
    published_by: str
    published_at: str
    note: str | None
    record_id: str

    def to_json(self) -> dict[str, Any]:
        """The API shape."""
        return {
            "project": self.project,
            "digest": self.digest,
            "name": self.name,
            "document": self.document,
            "published_by": self.published_by,
            "published_at": self.published_at,
            "note": self.note,
            "record_id": self.record_id,
        }


def _from_row(row: Any) -> PublishedPolicy:
    return PublishedPolicy(
        project=row.project,
        digest=row.digest,
        name=row.name,
        document=json.loads(row.document),
        published_by=row.published_by,
        published_at=row.published_at,
        note=row.note,
        record_id=row.record_id,
    )


def list_policies(connection: Connection, project: str) -> list[PublishedPolicy]:
    """The project's published versions, oldest first."""
    table = PolicyRow.__table__
    query = select(table).where(table.c.project == project).order_by(table.c.published_at)
    return [_from_row(row) for row in connection.execute(query)]


def _statement(project: str, digest: str, predicate: dict[str, Any]) -> bytes:
    return canonical_json(
        {
            "_type": _STATEMENT_TYPE,
            "subject": [{"name": project, "digest": {"sha256": digest}}],
            "predicateType": POLICY_PREDICATE_TYPE,
            "predicate": predicate,
        }
    )


def publish_policy(
    engine: Engine,
    store: EvidenceStore,
    project: str,
    document: Any,
    *,
    published_by: str,
    note: str | None,
) -> tuple[PublishedPolicy, bool]:
    """Registers `document` for `project` (signed record first); the same digest again
    answers the first publication (False)."""
    try:
        loaded = load_document(document, "")
    except PolicyError as error:
        raise ApiError(422, f"the policy cannot be published: {error}", "policy_invalid") from None
    digest = policy_digest(document)
    with engine.connect() as connection:
        for found in list_policies(connection, project):
            if found.digest == digest:
                return found, False
    predicate: dict[str, Any] = {
        "name": loaded.name,
        "digest": digest,
        "document": document,
        "published_by": published_by,
        "published_at": utc_now(),
    }
    if note:
        predicate["note"] = note
    result = store.append(
        project, _statement(project, digest, predicate), StatementMeta(repo=project)
    )
    row = {
        "record_id": result.record.id,
        "project": project,
        "digest": digest,
        "name": loaded.name[:200],
        "document": canonical_json(document).decode(),
        "published_by": published_by[:300],
        "published_at": predicate["published_at"],
        "note": note,
    }
    try:
        with engine.begin() as connection:
            connection.execute(insert(PolicyRow).values(**row))
    except IntegrityError:  # published at the same moment by another request
        with engine.connect() as connection:
            return next(p for p in list_policies(connection, project) if p.digest == digest), False
    return PublishedPolicy(**{**row, "document": document}), True


_PUBLISHED = text(
    "SELECT digest, name, published_at FROM policies WHERE project = :project ORDER BY published_at"
)  # built once: every verdict statement's ingest runs it
_accepted: weakref.WeakKeyDictionary[Engine, set[tuple[str, str]]] = weakref.WeakKeyDictionary()
_accepted_lock = threading.Lock()


def check_published(engine: Engine, project: str, predicate: VerdictPredicate) -> None:
    """422 when `project` has published policies and the statement was judged by another.

    A digest once found published stays accepted without a query (publications are
    append-only, so it can never stop being published); any other is looked up each time, as
    another instance may have published a policy since."""
    digest = predicate.policy.digest
    with _accepted_lock:
        if (project, digest) in _accepted.get(engine, ()):
            return
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(driver_sql(engine, _PUBLISHED), {"project": project})
        rows = [_Publication(*row) for row in cursor.fetchall()]
        cursor.close()
    finally:
        raw.close()  # back to the pool, which ends the read transaction
    if any(row.digest == digest for row in rows):
        with _accepted_lock:
            _accepted.setdefault(engine, set()).add((project, digest))
        return
    if not rows:
        return
    accepted = "; ".join(
        f"{row.name} sha256:{row.digest[:12]} (published {row.published_at[:10]})" for row in rows
    )
    raise ApiError(
        422,
        f"project {project} accepts only evidence judged by its published policies "
        f"({accepted}); this statement was judged by {predicate.policy.name[:100]} "
        f"sha256:{predicate.policy.digest[:12]}",
        "policy_not_published",
    )
