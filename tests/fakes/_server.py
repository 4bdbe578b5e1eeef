"""A loopback HTTP server base for the fake providers: routing, faults on demand, a request log."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

Reply = tuple[int, dict[str, str], Any]
Handler = Callable[..., Reply]


@dataclass
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]


@dataclass
class Fault:
    """A canned answer given instead of the real one to matching requests."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    times: int | None = 1  # None: forever
    method: str | None = None
    path_contains: str | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.path_contains is None or self.path_contains in path


class FakeServer:
    """Routes `(method, regex)` to handlers; knobs inject faults; every request is recorded."""

    prefix = ""

    def __init__(self, *, token: str | None = None) -> None:
        self.token = token
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FakeServer:
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._serve(self, "GET")

            def do_POST(self) -> None:
                fake._serve(self, "POST")

            def do_PATCH(self) -> None:
                fake._serve(self, "PATCH")

            def do_PUT(self) -> None:
                fake._serve(self, "PUT")

            def log_message(self, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def root(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        """The API base URL a client is given."""
        return self.root + self.prefix

    # -- knobs ------------------------------------------------------------------------------
    def fail(self, status: int, **kwargs: Any) -> None:
        """Answers the next matching request(s) with `status` (see Fault for the options)."""
        self.faults.append(Fault(status, **kwargs))

    def route(self, method: str, pattern: str, handler: Handler, *, first: bool = False) -> None:
        """Serves `pattern` with `handler`; `first` puts it before the routes already known."""
        entry = (method, re.compile(f"^{pattern}$"), handler)
        if first:
            self.routes.insert(0, entry)
        else:
            self.routes.append(entry)

    def count(self, method: str | None = None, contains: str = "") -> int:
        """How many requests were received (of `method`, with `contains` in the path)."""
        return sum(
            1
            for r in self.requests
            if (method is None or r.method == method) and contains in r.path
        )

    # -- serving ----------------------------------------------------------------------------
    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        split = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        headers = {k.lower(): v for k, v in handler.headers.items()}
        path = split.path
        with self._lock:
            self.requests.append(Recorded(method, path, query, body, headers))
            status, reply_headers, payload = self._answer(method, path, query, body, headers)
        kind = "application/json; charset=utf-8"
        if isinstance(payload, bytes):
            data, kind = payload, "text/plain; charset=utf-8"
        elif payload is None:
            data = b""
        else:
            text = json.dumps(payload).replace("https://api.github.com", self.url)
            data = text.encode()
        handler.send_response(status)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(data)))
        for name, value in reply_headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _answer(
        self, method: str, path: str, query: dict[str, str], body: Any, headers: dict[str, str]
    ) -> Reply:
        for fault in self.faults:
            if fault.matches(method, path):
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                return fault.status, fault.headers, fault.body
        if self.token is not None and not self.authorized(headers):
            return 401, {}, {"message": "Bad credentials"}
        if not path.startswith(self.prefix):
            return 404, {}, {"message": "Not Found"}
        local = path[len(self.prefix) :]
        for route_method, pattern, handler in self.routes:
            match = pattern.match(local)
            if match and route_method == method:
                try:
                    return handler(query=query, body=body, **match.groupdict())
                except Exception as error:  # a bug in the fake: visible, not a hang
                    return 418, {}, {"message": f"fake error: {error!r}"}
        return 404, {}, {"message": "Not Found"}

    def authorized(self, headers: dict[str, str]) -> bool:
        return headers.get("authorization", "") in {f"token {self.token}", f"Bearer {self.token}"}

    # -- pagination -------------------------------------------------------------------------
    def page(self, items: list[Any], path: str, query: dict[str, str]) -> Reply:
        """One page of `items` with a GitHub-style Link header and GitLab-style X- headers."""
        per_page = int(query.get("per_page", 30))
        page = int(query.get("page", 1))
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
            "X-Total": str(len(items)),
            "X-Total-Pages": str(last),
            "X-Next-Page": str(page + 1) if page < last else "",
        }

        def link(number: int) -> str:
            return f"{self.url}{path}?{urlencode({**query, 'page': number})}"

        links = []
        if page < last:
            links.append(f'<{link(page + 1)}>; rel="next"')
            links.append(f'<{link(last)}>; rel="last"')
        if page > 1:
            links.append(f'<{link(1)}>; rel="first"')
            links.append(f'<{link(page - 1)}>; rel="prev"')
        if links:
            headers["Link"] = ", ".join(links)
        return 200, headers, chunk
