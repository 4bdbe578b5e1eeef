"""`/healthz`, `/readyz` and `/metrics`."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import SQLAlchemyError

from gatekeeper.errors import ServiceError
from gatekeeper.service.database import require_current_schema
from gatekeeper.service.deps import Context
from gatekeeper.service.records import HealthOut

router = APIRouter(tags=["operations"])
_log = logging.getLogger(__name__)


@router.get("/healthz", response_model=HealthOut, summary="Liveness")
def healthz() -> HealthOut:
    """The process answers."""
    return HealthOut(status="ok")


@router.get(
    "/readyz",
    response_model=HealthOut,
    responses={503: {"model": HealthOut}},
    summary="Readiness",
)
def readyz(context: Context) -> Response:
    """The database is reachable, its schema is at the newest migration, and this instance can
    sign with the current key (after a rotation by any instance, its private key must be here).
    The reason of a 503 goes to the service log only: the driver's text names hosts and users."""
    try:
        require_current_schema(context.engine)
    except (ServiceError, SQLAlchemyError) as error:
        _log.warning("not ready: %s", str(error).splitlines()[0][:500] if str(error) else error)
        detail = "the database is unreachable or its schema is not current; see the service log"
        return JSONResponse(HealthOut(status="unavailable", detail=detail).model_dump(), 503)
    try:
        context.store.signing_key()
    except ServiceError as error:
        _log.warning("not ready: %s", error)
        detail = "this instance has no usable current signing key; see the service log"
        return JSONResponse(HealthOut(status="unavailable", detail=detail).model_dump(), 503)
    return JSONResponse(HealthOut(status="ready").model_dump())


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
    summary="Prometheus metrics",
)
def metrics(context: Context) -> Response:
    """Requests, latencies and the log size, in the Prometheus text format."""
    try:
        context.metrics.log_size.set(context.store.log_size())
    except SQLAlchemyError:
        context.metrics.log_size.set(float("nan"))
    registry = context.metrics.exposition_registry()
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
