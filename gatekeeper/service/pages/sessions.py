"""Server-side sessions of the auditor pages: the cookie holds a random session id, the database
its SHA-256, the token it was opened with and when it lapses.

A session answers for its token only while the token itself is valid (known, unrevoked,
unexpired), so revoking the token ends every session opened with it. Sign-out deletes the row.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.engine import Connection

from gatekeeper.service._clock import format_time, utc_now
from gatekeeper.service.auth import Principal, principal_by_digest
from gatekeeper.service.database import WRITER
from gatekeeper.service.tables import PageSessionRow, TokenRow

__all__ = ["SESSION_HOURS", "end_session", "open_session", "session_principal"]

SESSION_HOURS = 12
"""A session lapses this long after sign-in (the cookie itself lasts the browser session)."""

_S = PageSessionRow
_T = TokenRow


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def open_session(engine: Engine, principal: Principal, now: datetime | None = None) -> str:
    """A new session for `principal`'s token; returns the id the cookie carries. Lapsed
    sessions are deleted on the way."""
    now = now or datetime.now(UTC)
    session_id = secrets.token_urlsafe(32)
    with engine.connect() as connection, connection.execution_options(**WRITER).begin():
        connection.execute(delete(_S).where(_S.expires_at <= format_time(now)))
        connection.execute(
            insert(_S).values(
                session_sha256=_digest(session_id),
                token_id=principal.token_id,
                created_at=format_time(now),
                expires_at=format_time(now + timedelta(hours=SESSION_HOURS)),
            )
        )
    return session_id


def session_principal(connection: Connection, session_id: str) -> Principal | None:
    """The principal of a live session whose token is still valid, else None."""
    if not session_id or len(session_id) > 100:
        return None
    digest = connection.execute(
        select(_T.token_sha256)
        .join(_S, _S.token_id == _T.token_id)
        .where(_S.session_sha256 == _digest(session_id), _S.expires_at > utc_now())
    ).scalar()
    return None if digest is None else principal_by_digest(connection, str(digest))


def end_session(engine: Engine, session_id: str) -> None:
    """Deletes the session (nothing when there is none)."""
    if not session_id or len(session_id) > 100:
        return
    with engine.connect() as connection, connection.execution_options(**WRITER).begin():
        connection.execute(delete(_S).where(_S.session_sha256 == _digest(session_id)))
