"""`/v1/policies`: publish a policy version of a project (admin), list a project's versions."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field, JsonValue
from starlette.concurrency import run_in_threadpool

from gatekeeper.service.auth import Principal
from gatekeeper.service.deps import (
    Context,
    Db,
    ProjectQuery,
    Reader,
    checked_project,
    require_project,
    require_scope,
)
from gatekeeper.service.policies import list_policies, publish_policy
from gatekeeper.service.problems import ApiError
from gatekeeper.service.records import ErrorOut

router = APIRouter(prefix="/v1/policies", tags=["policies"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (400, 401, 403, 413, 422, 503)
}


class PolicyIn(BaseModel):
    """A policy version to publish: the project, the policy document (the JSON form
    `gatekeeper policy publish` sends: the merged policy) and an optional note."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project: str = Field(max_length=200)
    document: dict[str, JsonValue]
    note: str | None = Field(default=None, max_length=1000)


Admin = Annotated[Principal, Depends(require_scope("admin"))]


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value), status, media_type="application/json")


@router.post("", status_code=201, responses=_ERRORS, summary="Publish a policy version")
async def post_policy(context: Context, body: PolicyIn, principal: Admin) -> Response:
    """Registers the policy for the project (admin token): its digest (SHA-256 of the
    document's RFC 8785 canonical JSON), who published it and when, as a signed record in the
    log; 201, or 200 with the first publication when this digest was published before. From
    then on the project's evidence must be judged by a published version (422 otherwise)."""
    project = checked_project(body.project)
    if project is None:  # pragma: no cover - the body model requires it
        raise ApiError(422, "the request is invalid: project is required")
    require_project(principal, project)
    by = principal.name or principal.token_id
    if principal.identity is not None:
        by = principal.identity.get("subject", by)
    found, created = await run_in_threadpool(
        publish_policy,
        context.engine,
        context.store,
        project,
        body.document,
        published_by=by,
        note=body.note,
    )
    return _json(found.to_json(), 201 if created else 200)


@router.get("", responses=_ERRORS, summary="A project's published policy versions")
def get_policies(connection: Db, principal: Reader, *, project: ProjectQuery = None) -> Response:
    """The published policy versions of `?project=` (read token of the project), oldest
    first: digest, name, document, published_by, published_at, note, record_id."""
    checked = checked_project(project)
    if checked is None:
        raise ApiError(422, "the request is invalid: ?project= is required")
    require_project(principal, checked)
    return _json({"policies": [p.to_json() for p in list_policies(connection, checked)]})
