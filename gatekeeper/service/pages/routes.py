"""The pages' router and its shared parts: rendering, HTML errors, sign-in and sign-out, the
record page, the export download and the log page (server-rendered Jinja2).

`/ui/login` checks a read token like the API does and opens a server-side session (`sessions`):
the HttpOnly, SameSite=Strict cookie holds the session id, never the token, which is never
shown back. Every value is escaped (autoescape on) and links are http(s) only. The API's
`ApiError`s (401, 403, 404) and bad filters become HTML pages, not JSON.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.concurrency import run_in_threadpool

from gatekeeper.attest.keys import VerifyingKey
from gatekeeper.service.auth import Principal, authenticate
from gatekeeper.service.deps import Context, Db, load_record
from gatekeeper.service.keyring import published_keys
from gatekeeper.service.limits import client_address
from gatekeeper.service.pages.params import PageInputError
from gatekeeper.service.pages.queries import record_context, with_latest_receipt
from gatekeeper.service.pages.security import HEADERS, came_over_https, same_site_request
from gatekeeper.service.pages.sessions import end_session, open_session, session_principal
from gatekeeper.service.pages.views import record_view
from gatekeeper.service.problems import ApiError
from gatekeeper.service.projects import ProjectNameError, validate_project
from gatekeeper.service.routers.export import export

COOKIE = "gatekeeper_ui"
PAGE_HEADERS = HEADERS | {"Cache-Control": "no-store"}
_CROSS_SITE = "This form was sent from another site: sign in from the service's own page."
_TITLES = {
    401: "Sign in needed",
    403: "Not allowed",
    404: "Not found",
    422: "Invalid request",
}
_templates = Environment(
    loader=PackageLoader("gatekeeper.service.pages", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class PageError(Exception):
    """A page answered on purpose with an HTML error: status and one sentence."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _signed_in(request: Request) -> bool:
    return bool(request.cookies.get(COOKIE))


def render(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    """The template `name` as an HTML response with the pages' security headers."""
    html = _templates.get_template(name).render(signed_in=_signed_in(request), **values)
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def _error_page(request: Request, status: int, message: str) -> HTMLResponse:
    title = _TITLES.get(status, "Error")
    return render(request, "error.html", status, title=title, code=status, message=message)


def _validation_message(error: RequestValidationError) -> str:
    first = error.errors()[0] if error.errors() else {}
    place = ".".join(str(part) for part in first.get("loc", ()) if part not in ("query", "path"))
    return f"{place or 'request'}: {first.get('msg', 'invalid value')}"


class _PageRoute(APIRoute):
    """A route whose errors are HTML pages (the app's handlers answer JSON)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except (PageError, ApiError) as error:
                return _error_page(request, error.status, error.message)
            except PageInputError as error:
                return _error_page(request, 422, str(error))
            except RequestValidationError as error:
                return _error_page(request, 422, _validation_message(error))

        return handler


router = APIRouter(prefix="/ui", include_in_schema=False, route_class=_PageRoute)


def page_principal(request: Request, context: Context) -> Principal:
    """The principal of the session cookie's session; 401/403 pages otherwise."""
    session_id = request.cookies.get(COOKIE)
    if not session_id:
        raise PageError(401, "Sign in with a read token to see the evidence.")
    with context.engine.connect() as connection:
        principal = session_principal(connection, session_id)
    if principal is None:
        raise PageError(
            401, "Your session has ended, or its token was revoked or expired: sign in again."
        )
    if not principal.has_scope("read"):
        raise PageError(403, "Your token lacks the `read` scope these pages need.")
    return principal


Viewer = Annotated[Principal, Depends(page_principal)]


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    """The sign-in form."""
    return render(request, "login.html", error=None)


@router.post("/login")
async def login(request: Request, context: Context) -> Response:
    """Checks the posted token; on success opens a session, sets its id as the cookie and goes
    to the home page."""
    if not same_site_request(request):
        return render(request, "login.html", 403, error=_CROSS_SITE)
    address = client_address(request, context.settings.trusted_proxies)
    try:
        context.limits.refuse_blocked(address)
    except ApiError as refused:  # too many refused tokens from this address
        page = render(request, "login.html", refused.status, error=refused.message)
        page.headers["Retry-After"] = str(refused.retry_after or 60)
        return page
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    token = (form.get("token") or [""])[0].strip()
    with context.engine.connect() as connection:
        principal = authenticate(connection, token) if token else None
    if principal is None or not principal.has_scope("read"):
        if token:
            context.limits.failed(address)
        error = "That token is not a valid read token." if token else "Enter a token."
        return render(request, "login.html", 401, error=error)
    session_id = await run_in_threadpool(open_session, context.engine, principal)
    response = RedirectResponse("/ui/", status_code=303, headers=PAGE_HEADERS)
    response.set_cookie(
        COOKIE,
        session_id,
        path="/ui",
        httponly=True,
        samesite="strict",
        secure=came_over_https(request, context.settings.trusted_proxies),
    )
    return response


@router.post("/logout")
def logout(request: Request, context: Context) -> Response:
    """Ends the session and forgets its cookie (a sign-out from another site is refused)."""
    if not same_site_request(request):
        raise PageError(403, _CROSS_SITE)
    end_session(context.engine, request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/ui/login", status_code=303, headers=PAGE_HEADERS)
    response.delete_cookie(COOKIE, path="/ui", httponly=True, samesite="strict")
    return response


def _project(value: str) -> str:
    try:
        return validate_project(value)
    except ProjectNameError as error:
        raise PageError(422, f"project: {error}") from None


def _keys(connection: Db) -> dict[str, VerifyingKey]:
    return {
        key.key_id: VerifyingKey.from_public_pem(key.public_key_pem)
        for key in published_keys(connection)
    }


@router.get("/records/{record_id}")
def record(
    request: Request, context: Context, connection: Db, viewer: Viewer, record_id: str
) -> HTMLResponse:
    """One record: verdict and rules, facts, ISO 9001 clauses, signature and inclusion proof."""
    found = load_record(connection, viewer, record_id)
    stored = with_latest_receipt(context.store, connection, found)
    view = record_view(stored, _keys(connection))
    export_url = "/ui/export?" + urlencode({"project": stored.project})
    around = record_context(connection, viewer, found)
    return render(
        request, "record.html", view=view, record=stored, export_url=export_url, around=around
    )


@router.get("/records/{record_id}/json")
def record_json(context: Context, connection: Db, viewer: Viewer, record_id: str) -> Response:
    """The record in the API's shape, with its receipt to the newest checkpoint."""
    stored = with_latest_receipt(
        context.store, connection, load_record(connection, viewer, record_id)
    )
    return JSONResponse(stored.model_dump(), headers=PAGE_HEADERS)


@router.get("/export")
def export_bundle(
    request: Request, context: Context, viewer: Viewer, project: str = ""
) -> Response:
    """The export bundle of one project (the API's `/v1/export`, with the session cookie)."""
    if not project:
        raise PageError(422, "project: name the project to export (owner/name)")
    return export(request, context, viewer, project=_project(project), since=None, until=None)


@router.get("/log")
def log(request: Request, context: Context, connection: Db, _viewer: Viewer) -> HTMLResponse:
    """The newest signed checkpoint and the service's public keys."""
    checkpoint = context.store.latest_checkpoint(connection)
    keys = published_keys(connection)
    return render(request, "log.html", checkpoint=checkpoint, keys=keys)


@router.get("/static/style.css")
def stylesheet() -> Response:
    """The pages' one stylesheet (package data)."""
    css = importlib.resources.files(__package__ or "").joinpath("static/style.css").read_text()
    return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=3600"})
