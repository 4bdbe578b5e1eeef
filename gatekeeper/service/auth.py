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

from gatekeeper.attest.predicate import Submitter
from gatekeeper.errors import UsageError
from gatekeeper.service._clock import format_time, utc_now
from gatekeeper.service.database import WRITER, driver_sql
from gatekeeper.service.projects import ProjectNameError, validate_project
from gatekeeper.service.tables import TokenProjectRow, TokenRow

if TYPE_CHECKING:
    from gatekeeper.service.oidc import CiIdentity

SCOPES = ("ingest", "read", "admin")
_TOKEN_BY_DIGEST = text(
    "SELECT t.token_id, t.token_sha256, t.scopes, t.all_projects, t.expires_at, t.revoked_at,"
    " t.note, p.project FROM tokens t LEFT JOIN token_projects p ON p.token_id = t.token_id"
    " WHERE t.token_sha256 = :digest"
)  # built once: every request runs it (one row per bound project)


@dataclass(frozen=True)
class Principal:
    """Who a valid token speaks for, and the submitter its records carry."""

    token_id: str
    scopes: frozenset[str]
    projects: frozenset[str] | None  # None: every project
    name: str | None = None
    identity: Mapping[str, str] | None = None  # the verified claims of a CI ID token

    @property
    def submitter(self) -> Submitter:
        """What the signed record says about who sent it: the CI's issuer and verified claims,
        or the API token's id and name."""
        if self.identity is not None:
            claims = {k: v for k, v in self.identity.items() if k not in ("kind", "issuer")}
            return Submitter(kind="oidc", issuer=self.identity.get("issuer"), claims=claims)
        return Submitter(kind="token", token_id=self.token_id, token_name=self.name or None)

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
    projects: tuple[str, ...]  # empty when all_projects
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    all_projects: bool = False

    @property
    def projects_text(self) -> str:
        """The projects as a person reads them: the names, or `all projects`."""
        return "all projects" if self.all_projects else ", ".join(self.projects)


def token_digest(token: str) -> str:
    """The SHA-256 (hex) a token is stored as."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_scopes(scopes: list[str]) -> tuple[str, ...]:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        named = ", ".join(unknown) or "(none)"
        raise UsageError(f"unknown scope {named}; use one or more of {', '.join(SCOPES)}")
    return tuple(sorted(set(scopes)))


def _check_projects(projects: list[str], all_projects: bool, scopes: tuple[str, ...]) -> bool:
    """Whether the token spans every project; UsageError for a name that is not a project."""
    for project in projects:
        try:
            validate_project(project)
        except ProjectNameError as error:
            hint = " (for every project, use --all-projects)" if "*" in project else ""
            raise UsageError(f"--project: {error}{hint}") from None
    if all_projects and projects:
        raise UsageError("give --project or --all-projects, not both")
    if "admin" in scopes:
        return True
    if not (all_projects or projects):
        raise UsageError("a token needs --project (one or more) or --all-projects")
    return all_projects


def create_token(
    engine: Engine,
    scopes: list[str],
    projects: list[str],
    expires_at: datetime | None = None,
    *,
    all_projects: bool = False,
) -> tuple[str, TokenInfo]:
    """Creates a token; returns the secret (shown once) and what is stored about it.

    An admin token spans every project; any other is bound to `projects`, or to every project
    with `all_projects`."""
    chosen = _check_scopes(scopes)
    every = _check_projects(projects, all_projects, chosen)
    token_id = secrets.token_hex(6)
    token = f"gk_{token_id}_{secrets.token_urlsafe(32)}"
    info = TokenInfo(
        token_id=token_id,
        scopes=chosen,
        projects=() if every else tuple(sorted(set(projects))),
        created_at=utc_now(),
        expires_at=None if expires_at is None else format_time(expires_at),
        revoked_at=None,
        all_projects=every,
    )
    with engine.connect() as connection, connection.execution_options(**WRITER).begin():
        connection.execute(
            insert(TokenRow).values(
                token_id=token_id,
                token_sha256=token_digest(token),
                scopes=",".join(info.scopes),
                all_projects=every,
                created_at=info.created_at,
                expires_at=info.expires_at,
            )
        )
        if info.projects:
            connection.execute(
                insert(TokenProjectRow),
                [{"token_id": token_id, "project": project} for project in info.projects],
            )
    return token, info


def list_tokens(engine: Engine) -> list[TokenInfo]:
    """Every token ever created, oldest first."""
    with engine.connect() as connection:
        rows = connection.execute(select(TokenRow.__table__).order_by(TokenRow.created_at)).all()
        bound = connection.execute(
            select(TokenProjectRow.token_id, TokenProjectRow.project).order_by(
                TokenProjectRow.project
            )
        ).all()
    projects: dict[str, list[str]] = {}
    for token_id, project in bound:
        projects.setdefault(token_id, []).append(project)
    return [
        TokenInfo(
            token_id=row.token_id,
            scopes=tuple(row.scopes.split(",")),
            projects=tuple(projects.get(row.token_id, ())),
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            all_projects=bool(row.all_projects),
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
    return principal_by_digest(connection, token_digest(token))


def principal_by_digest(connection: Connection, digest: str) -> Principal | None:
    """The principal of the valid token whose SHA-256 is `digest`, else None."""
    return _principal(digest, connection.execute(_TOKEN_BY_DIGEST, {"digest": digest}).all())


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
        rows = cursor.fetchall()
        cursor.close()
    finally:
        raw.close()  # back to the pool, which ends the read transaction
    return _principal(digest, rows)


def _well_formed(token: str) -> bool:
    return token.startswith("gk_") and len(token) <= 200


def _principal(digest: str, rows: Sequence[Sequence[Any]]) -> Principal | None:
    if not rows:
        return None
    token_id, stored_digest, scopes, all_projects, expires_at, revoked_at, note, _p = rows[0]
    if not hmac.compare_digest(stored_digest, digest) or revoked_at is not None:
        return None
    if expires_at is not None and expires_at <= utc_now():
        return None
    bound = frozenset(row[7] for row in rows if row[7] is not None)
    if not (all_projects or bound):
        return None  # bound to nothing: fails closed
    return Principal(
        token_id=token_id,
        scopes=frozenset(scopes.split(",")),
        projects=None if all_projects else bound,
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
