"""`/v1/evidence`: store a statement (ingest), query records, read one record."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import ValidationError
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from gatekeeper.attest.canonical import (
    CanonicalJSONError,
    UnsafeNumberError,
    canonical_json,
    strict_json_loads,
)
from gatekeeper.attest.predicate import PredicateError, VerdictPredicate, read_predicate
from gatekeeper.attest.statement import Statement, StatementError, parse_statement
from gatekeeper.errors import GatekeeperError
from gatekeeper.service._clock import format_time
from gatekeeper.service.confirm import ProviderUnreachableError, ReviewRefused, confirmed_payload
from gatekeeper.service.deps import (
    Bearer,
    Context,
    Db,
    ProjectQuery,
    Reader,
    ServiceContext,
    check_scope,
    checked_project,
    load_record,
    principal_of,
    require_project,
)
from gatekeeper.service.limits import client_address
from gatekeeper.service.policies import check_published
from gatekeeper.service.problems import ApiError
from gatekeeper.service.projects import unbound_subject
from gatekeeper.service.receipts import record_json, records_json, with_receipts
from gatekeeper.service.recheck import recheck_verdict
from gatekeeper.service.records import ErrorOut, EvidenceIn, RecordOut, RecordPage, record_from_row
from gatekeeper.service.store import AppendResult, StatementMeta
from gatekeeper.service.submitter import with_submitter
from gatekeeper.service.tables import RecordFacetRow, RecordRow
from gatekeeper.service.workspace.filters import RecordFilter, conditions

router = APIRouter(prefix="/v1/evidence", tags=["evidence"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (400, 401, 403, 404, 413, 422, 429, 503)
}


def _parse_body(
    body: bytes,
) -> tuple[str, bytes, StatementMeta, tuple[str, ...], VerdictPredicate]:
    """The project, the canonical statement, its index columns, its subject names and its
    typed predicate (422 unless it is a Gatekeeper verdict predicate)."""
    try:
        data = strict_json_loads(body)
    except UnsafeNumberError as error:
        raise ApiError(
            422, f"the request body has a number that cannot be kept: {error}"
        ) from error
    except CanonicalJSONError as error:
        raise ApiError(400, f"the request body is not valid JSON: {error}") from error
    try:
        evidence = EvidenceIn.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        place = ".".join(str(part) for part in first["loc"]) or "body"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ApiError(422, f"the request body is invalid at {place}: {message}") from error
    try:
        payload = canonical_json(evidence.statement)
        parsed = parse_statement(payload)
    except StatementError as error:
        raise ApiError(422, f"the statement is {error}") from error
    except (CanonicalJSONError, GatekeeperError, ValueError, TypeError) as error:
        raise ApiError(
            422, f"the statement is not an in-toto Statement v1: {_sentence(error)}"
        ) from error
    names = tuple(name for subject in parsed.subject for name in subject.identifiers or ("",))
    try:
        predicate = read_predicate(parsed.predicateType, parsed.predicate)
    except PredicateError as error:
        raise ApiError(422, f"the statement is {error}", "predicate_invalid") from None
    return evidence.project, payload, _meta(parsed, predicate), names, predicate


def _require_binding(project: str, names: tuple[str, ...]) -> None:
    """422 unless every subject of the statement names `project` (DESIGN, Binding)."""
    stray = unbound_subject(names, project)
    if stray is not None:
        shown = repr(stray[:120]) + ("..." if len(stray) > 120 else "")
        which = f"subject {shown} does not" if stray else "a subject without a name or uri does not"
        raise ApiError(
            422,
            f"the statement's {which} name project {project}: a subject's name and uri must be "
            f"{project} or a repository URI whose path is it (https://host/{project}, "
            f"git+https://host/{project})",
            "subject_not_project",
        )


def _sentence(error: BaseException) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        place = ".".join(str(part) for part in first["loc"]) or "statement"
        return f"{place}: {first['msg']}"
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _text(value: str | None, limit: int) -> str | None:
    return value[:limit] if value else None


def _meta(statement: Statement, predicate: VerdictPredicate) -> StatementMeta:
    first = statement.subject[0]
    return StatementMeta(
        repo=_text(next(iter(first.identifiers), None), 300),
        commit=_text(first.digest.get("gitCommit"), 64),
        ref=_text(predicate.subject_text("ref"), 300),
        verdict=predicate.verdict,
    )


_BODY_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": EvidenceIn.model_json_schema()}},
    }
}


@router.post(
    "",
    status_code=201,
    response_model=RecordOut,
    responses=_ERRORS | {200: {"model": RecordOut, "description": "Already stored: the same."}},
    openapi_extra=_BODY_SCHEMA,
    summary="Store an in-toto statement",
)
async def post_evidence(request: Request, context: Context, credentials: Bearer) -> Response:
    """Signs the statement (DSSE, Ed25519), appends it to the log and answers the record with
    its receipt: 201 when stored now, 200 with the same record when this content was stored."""
    body = await request.body()
    # the token check, parsing and the append share one worker-thread hop
    address = client_address(request, context.settings.trusted_proxies)
    result = await run_in_threadpool(_ingest, context, credentials, body, address)
    if result.receipt is None:
        out = await run_in_threadpool(_with_receipt, context, result.record)
        return _json(out, 201 if result.created else 200)
    body = record_json(result.record, result.receipt)  # no re-parsing of the stored envelope
    return Response(body, 201 if result.created else 200, media_type="application/json")


def _ingest(
    context: ServiceContext,
    credentials: HTTPAuthorizationCredentials | None,
    body: bytes,
    address: str | None,
) -> AppendResult:
    principal = principal_of(context, credentials, address)
    check_scope(principal, "ingest")
    project, payload, meta, names, predicate = _parse_body(body)
    require_project(principal, project)
    _require_binding(project, names)
    digest = hashlib.sha256(payload).hexdigest()  # the sent statement: resending it is idempotent
    context.limits.check_quota(project, digest)
    recheck_verdict(context.settings, predicate)
    check_published(context.engine, project, predicate)
    try:
        signed = confirmed_payload(context.confirmer, project, payload)
    except ReviewRefused as error:
        raise ApiError(422, f"the statement is refused: {error}", "reviews_not_confirmed") from None
    except ProviderUnreachableError as error:
        raise ApiError(503, f"the reviews cannot be confirmed now ({error})") from None
    signed = with_submitter(signed, principal.submitter)
    result = context.store.append(project, signed, meta, digest=digest)
    if result.created:
        context.limits.stored(project)
    return result


def _json(model: RecordOut, status: int = 200) -> Response:
    """The model as JSON, skipping FastAPI's second validation of what we just built."""
    return Response(model.model_dump_json(), status, media_type="application/json")


def _with_receipt(context: Context, record: Any) -> RecordOut:
    with context.engine.connect() as connection:
        return with_receipts(context.store, connection, [record])[0]


COMMITS_PER_QUERY = 100
"""Commits one `?commit=a,b,c` query may name: a provider page of a release's commits."""


def _commits(value: str) -> list[str]:
    """The commits of `?commit=`, one or comma-separated; 422 for an empty item or too many."""
    commits = value.split(",")
    if len(commits) > COMMITS_PER_QUERY or not all(0 < len(c) <= 64 for c in commits):
        raise ApiError(
            422, f"commit takes 1 to {COMMITS_PER_QUERY} comma-separated SHAs of 1-64 characters"
        )
    return commits


@router.get("", response_model=RecordPage, responses=_ERRORS, summary="Query records")
def list_evidence(
    context: Context,
    connection: Db,
    principal: Reader,
    *,
    project: ProjectQuery = None,
    commit: Annotated[
        str | None,
        Query(
            max_length=COMMITS_PER_QUERY * 65,
            description=f"Git commit SHA, or up to {COMMITS_PER_QUERY} of them comma-separated "
            "(one query per page of a release's commits).",
        ),
    ] = None,
    ref: Annotated[str | None, Query(max_length=300, description="Git ref.")] = None,
    verdict: Annotated[Literal["pass", "fail"] | None, Query(description="Gate result.")] = None,
    since: Annotated[datetime | None, Query(description="Integrated at or after.")] = None,
    until: Annotated[datetime | None, Query(description="Integrated before.")] = None,
    outcome: Annotated[
        Literal["waived"] | None, Query(description="`waived`: passed through a waiver.")
    ] = None,
    rule: Annotated[
        str | None, Query(max_length=100, description="A rule id that failed or was waived.")
    ] = None,
    ref_prefix: Annotated[
        str | None, Query(max_length=300, description="Git ref prefix, e.g. `refs/tags/`.")
    ] = None,
    policy: Annotated[
        str | None, Query(max_length=200, description="Policy name, `name@version` or digest.")
    ] = None,
    change: Annotated[str | None, Query(max_length=32, description="PR/MR number.")] = None,
    author: Annotated[str | None, Query(max_length=200, description="Change author.")] = None,
    kind: Annotated[
        Literal["pr", "push", "release", "other"] | None,
        Query(
            description="Kind of evidence; `release`: release pipelines (a ref under "
            "refs/tags/, a release event or release facts)."
        ),
    ] = None,
    cursor: Annotated[
        str | None, Query(pattern=r"^[0-9]{1,18}$", description="`next_cursor` of the last page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Page size.")] = 50,
) -> Response:
    """Records in log order, filtered, each with its receipt and its waiver mark; cursor
    pagination."""
    project = checked_project(project)
    if project is not None:
        require_project(principal, project)
    facets = RecordFilter(
        waived=True if outcome == "waived" else None,
        rule=rule,
        ref_prefix=ref_prefix,
        policy=policy,
        change_id=change,
        author=author,
        kind=kind,
    )
    query = (
        select(RecordRow.__table__, RecordFacetRow.waived, RecordFacetRow.waived_rules)
        .outerjoin(RecordFacetRow, RecordFacetRow.record_id == RecordRow.id)
        .where(*conditions(facets))
        .order_by(RecordRow.log_index)
        .limit(limit)
    )
    if project is not None:
        query = query.where(RecordRow.project == project)
    elif principal.projects is not None:
        query = query.where(RecordRow.project.in_(sorted(principal.projects)))
    if commit is not None:
        query = query.where(RecordRow.commit.in_(_commits(commit)))
    if ref is not None:
        query = query.where(RecordRow.ref == ref)
    if verdict is not None:
        query = query.where(RecordRow.verdict == verdict)
    if since is not None:
        query = query.where(RecordRow.integrated_at >= format_time(since))
    if until is not None:
        query = query.where(RecordRow.integrated_at < format_time(until))
    if cursor is not None:
        query = query.where(RecordRow.log_index > int(cursor))
    records = [record_from_row(row._mapping) for row in connection.execute(query)]
    following = str(records[-1].log_index) if len(records) == limit else None
    body = b'{"records":%b,"next_cursor":%b}' % (
        records_json(context.store, connection, records),
        json.dumps(following).encode(),
    )
    return Response(body, media_type="application/json")


@router.get("/{record_id}", response_model=RecordOut, responses=_ERRORS, summary="One record")
def get_evidence(context: Context, connection: Db, principal: Reader, record_id: str) -> RecordOut:
    """One record by id, with its receipt to the newest checkpoint."""
    record = load_record(connection, principal, record_id)
    return with_receipts(context.store, connection, [record])[0]
