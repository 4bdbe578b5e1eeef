"""The OpenAPI page `/docs`: Swagger UI from the service's own files (package data under
`static/swagger-ui/`), never from a CDN, with a content security policy of its own that lets
the page run the service's scripts and nothing else. `GATEKEEPER_API_DOCS=false` turns it off."""

from __future__ import annotations

import functools
import html
from importlib import resources

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse

__all__ = ["DOCS_CSP", "router"]

DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
"""Swagger UI's script and stylesheet come from the service; its icons are data: URIs in the
stylesheet; "Try it out" calls the API itself (connect-src)."""

_ASSETS: dict[str, str] = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "docs.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Gatekeeper evidence service: API</title>
<link rel="stylesheet" href="{root}/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="{root}/docs/assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{root}/openapi.json"></div>
<script src="{root}/docs/assets/swagger-ui-bundle.js"></script>
<script src="{root}/docs/assets/docs.js"></script>
</body>
</html>
"""

router = APIRouter(include_in_schema=False)


@functools.cache
def _asset(name: str) -> bytes:
    return resources.files(__package__ or "").joinpath(f"static/swagger-ui/{name}").read_bytes()


@router.get("/docs")
def docs_page(request: Request) -> HTMLResponse:
    """Swagger UI over the service's own `/openapi.json`."""
    root = html.escape(request.scope.get("root_path", "").rstrip("/"), quote=True)
    return HTMLResponse(_PAGE.format(root=root), headers={"Content-Security-Policy": DOCS_CSP})


@router.get("/docs/assets/{name}")
def docs_asset(name: str) -> Response:
    """One of the page's files; any other name is a 404."""
    media_type = _ASSETS.get(name)
    if media_type is None:
        raise HTTPException(status_code=404, detail="no such file")
    return Response(_asset(name), media_type=media_type, headers={"Cache-Control": "max-age=86400"})
