"""The home page: each project the token may read, at a glance (latest verdict, 30-day pass
rate, open nonconformities, active concessions), with links into the workspace."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from gatekeeper.service.deps import Db
from gatekeeper.service.pages.listing import report_links
from gatekeeper.service.pages.params import PageFilters
from gatekeeper.service.pages.queries import readable_projects
from gatekeeper.service.pages.routes import Viewer, render, router
from gatekeeper.service.workspace.trends import project_summaries

__all__ = ["home"]


@router.get("/")
def home(request: Request, connection: Db, viewer: Viewer) -> HTMLResponse:
    """The projects the token may read, each summarised."""
    summaries = project_summaries(connection, readable_projects(connection, viewer))
    links = {summary.project: PageFilters.for_project(summary.project) for summary in summaries}
    return render(
        request,
        "home.html",
        summaries=summaries,
        links=links,
        reports={project: report_links(f) for project, f in links.items()},
    )
