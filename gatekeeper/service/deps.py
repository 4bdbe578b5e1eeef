"""Every dependency of the routers, one place: the service context, connections, auth."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine, select
from sqlalchemy.engine import Connection

from gatekeeper.attest.keys import VerifyingKey
from gatekeeper.config import Settings
from gatekeeper.service.auth import Principal, authenticate_on, ci_principal
from gatekeeper.service.confirm import ReviewConfirmer
from gatekeeper.service.limits import Limits, client_address
from gatekeeper.service.middleware import Metrics
from gatekeeper.service.oidc import IdTokenRefused, OidcVerifier, looks_like_jwt
from gatekeeper.service.problems import ApiError
from gatekeeper.service.projects import PROJECT_MAX_LENGTH, ProjectNameError, validate_project
from gatekeeper.service.records import StoredRecord, record_from_row
from gatekeeper.service.store import EvidenceStore
from gatekeeper.service.tables import RecordFacetRow, RecordRow


@dataclass(frozen=True)
class ServiceContext:
    """What the app factory wires in: settings, engine, store, metrics."""

    settings: Settings
    engine: Engine
    store: EvidenceStore
    metrics: Metrics
    confirmer: ReviewConfirmer | None = None
    oidc: OidcVerifier | None = None
    witness_keys: dict[str, VerifyingKey] = field(default_factory=dict)
    """The witnesses whose cosignatures are accepted, by key id (GATEKEEPER_WITNESS_KEYS)."""
    limits: Limits = field(default_factory=Limits)


async def get_context(request: Request) -> ServiceContext:
    """The service context of the running app (async: no I/O, so no thread hop)."""
    context: ServiceContext = request.app.state.gatekeeper
    return context


Context = Annotated[ServiceContext, Depends(get_context)]


def get_connection(context: Context) -> Iterator[Connection]:
    """A database connection for one request (reads only; appends open their own)."""
    with context.engine.connect() as connection:
        yield connection


Db = Annotated[Connection, Depends(get_connection)]

_bearer = HTTPBearer(
    auto_error=False,
    description="A Gatekeeper token (`gatekeeper tokens create`), or a GitHub Actions / GitLab CI"
    " OIDC ID token of an issuer in GATEKEEPER_OIDC_ISSUERS (ingest for the project it names), as"
    " `Authorization: Bearer ...`.",
)


def get_principal(
    request: Request,
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The principal of the request's token; 401 without a valid one."""
    return principal_of(
        context, credentials, client_address(request, context.settings.trusted_proxies)
    )


def principal_of(
    context: ServiceContext,
    credentials: HTTPAuthorizationCredentials | None,
    address: str | None = None,
) -> Principal:
    """The principal of `credentials`, its request counted against the token's rate; 401
    without a valid token (counted against `address`, the client), 429 past a limit."""
    context.limits.refuse_blocked(address)
    try:
        principal = _authenticated(context, credentials)
    except ApiError as refused:
        if refused.status == 401 and credentials is not None:
            context.limits.failed(address)
        raise
    context.limits.spend(principal.token_id)
    return principal


def _authenticated(
    context: ServiceContext, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    """One token lookup, or a CI ID token verified with the issuer's cached keys."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "this endpoint needs a token: send `Authorization: Bearer <token>`")
    token = credentials.credentials
    if looks_like_jwt(token):
        if context.oidc is None:
            raise ApiError(401, "this service accepts no CI ID tokens (GATEKEEPER_OIDC_ISSUERS)")
        try:
            return ci_principal(context.oidc.verify(token))
        except IdTokenRefused as refused:
            raise ApiError(refused.status, str(refused)) from None
    principal = authenticate_on(context.engine, token)
    if principal is None:
        raise ApiError(401, "the token is unknown, revoked or expired")
    return principal


def require_scope(scope: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency returning the principal when its token carries `scope`, else 403."""

    async def _check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        check_scope(principal, scope)
        return principal

    return _check


def check_scope(principal: Principal, scope: str) -> None:
    """403 unless the token carries `scope`."""
    if not principal.has_scope(scope):
        raise ApiError(403, f"this token lacks the `{scope}` scope this endpoint needs")


Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
"""The request's bearer credentials, unchecked (for endpoints that check them off the loop)."""

Reader = Annotated[Principal, Depends(require_scope("read"))]
Ingester = Annotated[Principal, Depends(require_scope("ingest"))]


ProjectQuery = Annotated[
    str | None,
    Query(
        max_length=PROJECT_MAX_LENGTH,
        description="owner/name (GitLab: group/.../name); 422 when it is not a project name.",
    ),
]
"""`?project=`: pass it through `checked_project` before use."""


def checked_project(project: str | None) -> str | None:
    """`project` of a query when it is a project name (or absent); 422 with the reason otherwise."""
    if project is None:
        return None
    try:
        return validate_project(project)
    except ProjectNameError as error:
        raise ApiError(422, f"the request is invalid: project: {error}") from None


def require_project(principal: Principal, project: str | None) -> None:
    """403 unless the token is bound to `project` (None: to every project)."""
    if not principal.covers(project):
        what = f"project {project}" if project else "every project (pass ?project=)"
        raise ApiError(403, f"this token is not bound to {what}")


def load_record(connection: Connection, principal: Principal, record_id: str) -> StoredRecord:
    """One record by id; 404 when there is none or the token does not cover its project (the
    answer is the same, so an id never reveals which project holds it)."""
    row = connection.execute(
        select(RecordRow.__table__, RecordFacetRow.waived, RecordFacetRow.waived_rules)
        .outerjoin(RecordFacetRow, RecordFacetRow.record_id == RecordRow.id)
        .where(RecordRow.id == record_id[:64])
    ).first()
    record = None if row is None else record_from_row(row._mapping)
    if record is None or not principal.covers(record.project):
        raise ApiError(404, f"no record has the id {record_id[:64]!r}")
    return record
