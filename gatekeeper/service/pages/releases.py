"""The releases page (8.6): each release, the changes it ships with links to their records
(ungated and failed ones marked) and who authorised it; newest first, paged both ways."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from gatekeeper.service.deps import Db
from gatekeeper.service.pages.listing import page_cursor
from gatekeeper.service.pages.params import PageFilters, PageInputError
from gatekeeper.service.pages.queries import readable_projects
from gatekeeper.service.pages.routes import Viewer, render, router
from gatekeeper.service.workspace.releases import releases

__all__ = ["releases_page"]

_PAGE_SIZE = 20


@router.get("/releases")
def releases_page(request: Request, connection: Db, viewer: Viewer) -> HTMLResponse:
    """The release records the filters select, each with its changes and approvals."""
    filters = PageFilters.from_query(request.query_params)
    older, newer = page_cursor(request, "older"), page_cursor(request, "newer")
    if older is not None and newer is not None:
        raise PageInputError("older, newer: page one way at a time")
    page = releases(
        connection,
        filters.record_filter(viewer),
        viewer.projects,
        limit=_PAGE_SIZE,
        older_than=older,
        newer_than=newer,
    )
    return render(
        request,
        "releases.html",
        filters=filters,
        projects=readable_projects(connection, viewer),
        page=page,
        older_url=None if page.older is None else filters.link("/ui/releases", older=page.older),
        newer_url=None if page.newer is None else filters.link("/ui/releases", newer=page.newer),
    )
