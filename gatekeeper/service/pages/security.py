"""Web security of every response and of the pages' session forms.

`SecurityHeaders` adds the content security policy, nosniff, Referrer-Policy and frame denial to
every response the app gives (pages, JSON, downloads, 404s). `same_site_request` refuses a
sign-in or sign-out posted from another site; `came_over_https` decides the cookie's `Secure`.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HEADERS", "SecurityHeaders", "came_over_https", "same_site_request"]

HEADERS: dict[str, str] = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # no-referrer would make browsers post `Origin: null`
    "X-Frame-Options": "DENY",
}
_RAW = [(name.lower().encode(), value.encode()) for name, value in HEADERS.items()]


class SecurityHeaders:
    """ASGI middleware: the `HEADERS` on every HTTP response (a route's own values win)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(pair for pair in _RAW if pair[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def same_site_request(request: Request) -> bool:
    """False for a form posted from another site (Sec-Fetch-Site or Origin says so)."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:  # browsers send Origin on every POST; a script without one is no site
        return True
    if origin == "null":  # an opaque origin: only the browser's own same-origin mark vouches
        return fetch_site == "same-origin"
    scheme, _, host = origin.lower().partition("://")
    return scheme in ("http", "https") and host == request.url.netloc.lower()


def came_over_https(request: Request, trusted_proxies: Iterable[str]) -> bool:
    """True when the request came over HTTPS: its scheme, or a trusted proxy's forwarded proto."""
    if request.url.scheme == "https":
        return True
    client = request.client.host if request.client else None
    if client is None or client not in set(trusted_proxies):
        return False
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return forwarded == "https"
