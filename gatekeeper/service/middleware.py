"""ASGI middleware: request id, one JSON access-log line, Prometheus metrics, body size limit."""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
import time
import uuid
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gatekeeper.logs import SECRETS
from gatekeeper.service.problems import error_body

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_access = logging.getLogger("gatekeeper.service.access")
_log = logging.getLogger(__name__)
_REQUEST_ID_FORMAT = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""Set by `gatekeeper serve --workers N`: each worker writes its samples there, `/metrics` sums."""


class Metrics:
    """The service's Prometheus metrics, in a registry of their own (with `--workers N`, each
    worker's values live in PROMETHEUS_MULTIPROC_DIR and `exposition_registry` sums them)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.records_stored = Counter(
            "gatekeeper_records_stored",
            "Statements appended to the log (a statement already stored is not counted).",
            registry=self.registry,
        )
        self.records_refused = Counter(
            "gatekeeper_records_refused",
            "Statements refused at ingest, by reason (the HTTP status code).",
            ["reason"],
            registry=self.registry,
        )
        self.witness_cosignatures = Counter(
            "gatekeeper_witness_cosignatures",
            "Witness cosignatures accepted.",
            registry=self.registry,
        )
        self.key_events = Counter(
            "gatekeeper_key_events",
            "Signing-key events (created, rotated, retired), by event.",
            ["event"],
            registry=self.registry,
        )
        self.requests = Counter(
            "gatekeeper_http_requests",
            "HTTP requests answered, by method, route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "gatekeeper_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route.",
            ["method", "route"],
            registry=self.registry,
        )
        self.log_size = Gauge(
            "gatekeeper_log_size",
            "Leaves in the transparency log.",
            registry=self.registry,
            multiprocess_mode="max",  # the log only grows: the newest reading is the largest
        )

    def exposition_registry(self) -> CollectorRegistry:
        """What `/metrics` renders: this registry, or the sum over every worker's files."""
        if not os.environ.get(MULTIPROC_ENV):
            return self.registry
        combined = CollectorRegistry()
        multiprocess.MultiProcessCollector(combined)  # type: ignore[no-untyped-call]
        return combined


class _BodyTooLargeError(Exception):
    pass


class ServiceMiddleware:
    """Wraps the app: request ids, access log, metrics, and 413 for bodies over the limit."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        state: dict[str, Any] = {"status": 500, "sent": False}
        try:
            await self._handle(scope, receive, send, request_id, state)
        finally:
            self._record(scope, state["status"], time.perf_counter() - started)
            REQUEST_ID.reset(token)

    async def _handle(
        self, scope: Scope, receive: Receive, send: Send, request_id: str, state: dict[str, Any]
    ) -> None:
        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"], state["sent"] = message["status"], True
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("ascii")))
                message = {**message, "headers": headers}
            await send(message)

        if _declared_length(scope) > self.max_body_bytes:
            await self._too_large(send_with_id)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    raise _BodyTooLargeError
            return message

        try:
            await self.app(scope, limited_receive, send_with_id)
        except _BodyTooLargeError:
            if not state["sent"]:
                await self._too_large(send_with_id)
        except Exception:
            # answered here, inside the request id's scope: Starlette's own last-resort handler
            # runs outside every middleware, so its 500 would carry no X-Request-ID
            _log.exception(
                "internal error on %s %s",
                scope.get("method"),
                scope.get("path"),
                extra={"request_id": request_id},
            )
            if not state["sent"]:
                await _send_error(
                    send_with_id,
                    500,
                    "internal",
                    f"internal error; the service log names it with request id {request_id}",
                )

    async def _too_large(self, send: Send) -> None:
        await _send_error(
            send,
            413,
            "payload_too_large",
            f"the request body is larger than the limit of {self.max_body_bytes} bytes",
        )

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        method = scope.get("method", "-")
        bounded = method if method in _METHODS else "other"  # a label per invented verb would grow
        self.metrics.requests.labels(bounded, template, str(status)).inc()
        self.metrics.latency.labels(bounded, template).observe(seconds)
        if bounded == "POST" and template == "/v1/evidence":
            if status == 201:
                self.metrics.records_stored.inc()
            elif 400 <= status < 500:
                self.metrics.records_refused.labels(str(status)).inc()
        _access.info(
            "request",
            extra={
                "method": method,
                "path": scope.get("path", ""),
                "route": template,
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
            },
        )


async def _send_error(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps(error_body(code, message)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            given = bytes(value).decode("latin-1")
            if _REQUEST_ID_FORMAT.match(given):
                return given
    return uuid.uuid4().hex


def _declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and extra fields."""

    _STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": REQUEST_ID.get(),
        }
        for key, value in vars(record).items():
            if key not in self._STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return str(json.dumps(entry, default=str))


def configure_json_logging(level: int = logging.INFO) -> None:
    """Entry point helper: JSON lines on stderr with secrets masked (for `gatekeeper serve`)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter())
    handler.formatter.converter = time.gmtime  # type: ignore[union-attr]
    handler.addFilter(SECRETS)
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
