"""API errors: every failure answers `{"error": {"code", "message"}}` with the right status."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import psycopg
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gatekeeper.errors import ServiceError

_log = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    503: "unavailable",
}


class ApiError(ServiceError):
    """An error the API answers on purpose: status, code and one sentence."""

    def __init__(
        self, status: int, message: str, code: str | None = None, *, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or _CODES.get(status, "error")
        self.message = message
        self.retry_after = retry_after
        """Seconds for the `Retry-After` header (429, 503), or None."""


def error_body(code: str, message: str) -> dict[str, Any]:
    """The JSON body of every error."""
    return {"error": {"code": code, "message": message}}


def error_response(status: int, message: str, code: str | None = None) -> JSONResponse:
    """A JSON error response."""
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        error_body(code or _CODES.get(status, "error"), message), status, headers=headers
    )


def _validation_sentence(error: RequestValidationError) -> str:
    problems = []
    for item in error.errors()[:3]:
        place = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
        problems.append(f"{place or 'request'}: {item.get('msg', 'invalid value')}")
    return "the request is invalid: " + "; ".join(problems)


async def _on_api_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    response = error_response(error.status, error.message, error.code)
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


async def _on_http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    message = str(error.detail) if error.detail else "request failed"
    if error.status_code == 404:
        message = "no such resource; see /docs for the API"
    elif error.status_code == 405:
        message = "this method is not allowed on this path"
    response = error_response(error.status_code, message)
    if error.headers:
        response.headers.update(error.headers)
    return response


async def _on_validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return error_response(422, _validation_sentence(error))


DATABASE_UNAVAILABLE = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.TimeoutError,
    sqlite3.OperationalError,
    psycopg.OperationalError,
)
"""What a database that is down, unreachable, locked past the busy timeout or out of pooled
connections raises: the request may succeed later, so 503 and not 500."""


async def _on_database_unavailable(_request: Request, error: Exception) -> JSONResponse:
    _log.warning("database unavailable: %s", str(error).splitlines()[0][:300])
    response = error_response(503, "the database is unavailable or busy; retry shortly")
    response.headers["Retry-After"] = "1"
    return response


async def _on_unexpected(_request: Request, error: Exception) -> JSONResponse:
    _log.exception("internal error: %s", type(error).__name__)
    return error_response(500, "internal error; the request id in the logs names it", "internal")


def install_error_handlers(app: FastAPI) -> None:
    """Maps every exception to the JSON error shape."""
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    for database_error in DATABASE_UNAVAILABLE:
        app.add_exception_handler(database_error, _on_database_unavailable)
    app.add_exception_handler(Exception, _on_unexpected)
