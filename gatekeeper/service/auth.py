"""API tokens: random, shown once, stored as SHA-256, scoped, bound to projects, revocable.

A token reads `gk_<id>_<secret>`; the id names it in `gatekeeper tokens list|revoke`, the whole
string is what the SHA-256 is taken of. Scopes: `ingest` (POST evidence of its projects), `read`
(query, proofs, export of its projects), `admin` (everything, every project).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, insert, select, text, update
from sqlalchemy.engine import Connection

from gatekeeper.errors import UsageError
from gatekeeper.service._clock import format_time, utc_now
from gatekeeper.service.database import WRITER, driver_sql
from gatekeeper.service.projects import ProjectNameError, validate_project
from gatekeeper.service.tables import TokenRow

if TYPE_CHECKING:
    from gatekeeper.service.oidc import CiIdentity

SCOPES = ("ingest", "read", "admin")
_TOKEN_BY_DIGEST = text(
    "SELECT token_id, token_sha256, scopes, projects, expires_at, revoked_at, note FROM tokens"
    " WHERE token_sha256 = :digest"
)  # built once: every request runs it
ALL_PROJECTS = "*"


@dataclass(frozen=True)
class Principal:
    """Who a valid token speaks for, and the submitter its records carry."""

    token_id: str
    scopes: frozenset[str]
    projects: frozenset[str] | None  # None: every project
    name: str | None = None
    identity: Mapping[str, str] | None = None  # the verified claims of a CI ID token

    @property
    def submitter(self) -> dict[str, str]:
        """What the signed record says about who sent it: the CI's verified claims, or the
        API token's id and name."""
        if self.identity is not None:
            return dict(self.identity)
        found = {"kind": "token", "token_id": self.token_id}
        if self.name:
            found["name"] = self.name
        return found

    def has_scope(self, scope: str) -> bool:
        """True when the token carries `scope` (admin carries every scope)."""
        return "admin" in self.scopes or scope in self.scopes

    def covers(self, project: str | None) -> bool:
        """True when the token may act on `project` (None: on every project)."""
        if self.projects is None:
            return True
        return project is not None and project in self.projects


@dataclass(frozen=True)
class TokenInfo:
    """A token as `gatekeeper tokens list` shows it (never the secret)."""

    token_id: str
    scopes: tuple[str, ...]
    projects: tuple[str, ...]
    created_at: str
    expires_at: str | None
    revoked_at: str | None


def token_digest(token: str) -> str:
    """The SHA-256 (hex) a token is stored as."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_scopes(scopes: list[str]) -> tuple[str, ...]:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        named = ", ".join(unknown) or "(none)"
        raise UsageError(f"unknown scope {named}; use one or more of {', '.join(SCOPES)}")
    return tuple(sorted(set(scopes)))


def _check_project(project: str) -> None:
    try:
        validate_project(project)
    except ProjectNameError as error:
        raise UsageError(f"--project: {error}") from None


def create_token(
    engine: Engine,
    scopes: list[str],
    projects: list[str],
    expires_at: datetime | None = None,
) -> tuple[str, TokenInfo]:
    """Creates a token; returns the secret (shown once) and what is stored about it."""
    chosen = _check_scopes(scopes)
    bound = tuple(sorted(set(projects)))
    for project in bound:
        if project != ALL_PROJECTS:
            _check_project(project)
    if "admin" in chosen or ALL_PROJECTS in bound:
        bound = (ALL_PROJECTS,)
    if not bound:
        raise UsageError("a token needs --project (one or more, or '*' for every project)")
    token_id = secrets.token_hex(6)
    token = f"gk_{token_id}_{secrets.token_urlsafe(32)}"
    info = TokenInfo(
        token_id=token_id,
        scopes=chosen,
        projects=bound,
        created_at=utc_now(),
        expires_at=None if expires_at is None else format_time(expires_at),
        revoked_at=None,
    )
    with engine.connect() as connection, connection.execution_options(**WRITER).begin():
        connection.execute(
            insert(TokenRow).values(
                token_id=token_id,
                token_sha256=token_digest(token),
                scopes=",".join(info.scopes),
                projects=",".join(info.projects),
                created_at=info.created_at,
                expires_at=info.expires_at,
            )
        )
    return token, info


def list_tokens(engine: Engine) -> list[TokenInfo]:
    """Every token ever created, oldest first."""
    with engine.connect() as connection:
        rows = connection.execute(select(TokenRow.__table__).order_by(TokenRow.created_at)).all()
    return [
        TokenInfo(
            token_id=row.token_id,
            scopes=tuple(row.scopes.split(",")),
            projects=tuple(row.projects.split(",")),
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
        )
        for row in rows
    ]


def revoke_token(engine: Engine, token_id: str) -> bool:
    """Revokes a token by id; False when no unrevoked token has that id."""
    with engine.connect() as connection, connection.execution_options(**WRITER).begin():
        result = connection.execute(
            update(TokenRow)
            .where(TokenRow.token_id == token_id, TokenRow.revoked_at.is_(None))
            .values(revoked_at=utc_now())
        )
    return bool(result.rowcount)


def authenticate(connection: Connection, token: str) -> Principal | None:
    """The principal of a valid (known, unrevoked, unexpired) token, else None."""
    if not _well_formed(token):
        return None
    digest = token_digest(token)
    return _principal(digest, connection.execute(_TOKEN_BY_DIGEST, {"digest": digest}).first())


def authenticate_on(engine: Engine, token: str) -> Principal | None:
    """As `authenticate`, on a pooled driver connection: every API request runs this, so the
    lookup skips SQLAlchemy's per-statement work (one indexed SELECT, no transaction kept)."""
    if not _well_formed(token):
        return None
    digest = token_digest(token)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(driver_sql(engine, _TOKEN_BY_DIGEST), {"digest": digest})
        row = cursor.fetchone()
        cursor.close()
    finally:
        raw.close()  # back to the pool, which ends the read transaction
    return _principal(digest, row)


def _well_formed(token: str) -> bool:
    return token.startswith("gk_") and len(token) <= 200


def _principal(digest: str, row: Sequence[Any] | None) -> Principal | None:
    if row is None:
        return None
    token_id, stored_digest, scopes, projects, expires_at, revoked_at, note = row
    if not hmac.compare_digest(stored_digest, digest) or revoked_at is not None:
        return None
    if expires_at is not None and expires_at <= utc_now():
        return None
    bound = frozenset(projects.split(","))
    return Principal(
        token_id=token_id,
        scopes=frozenset(scopes.split(",")),
        projects=None if ALL_PROJECTS in bound else bound,
        name=note,
    )


def ci_principal(identity: CiIdentity) -> Principal:
    """The principal of a verified CI ID token: ingest, for the one project its claim names."""
    subject = identity.submitter.get("subject", "")
    return Principal(
        token_id=f"oidc:{subject}"[:200],
        scopes=frozenset({"ingest"}),
        projects=frozenset({identity.project}),
        identity=identity.submitter,
    )
