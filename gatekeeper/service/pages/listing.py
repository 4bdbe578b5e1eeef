"""The records page: newest first, filtered, paged both ways with the total, or a seeded sample.

`?sample=N` draws N records at random from the filtered set; without `&seed=` a seed is chosen
and the page redirects to the URL naming it, so every sample shown can be drawn again.
"""

from __future__ import annotations

import secrets

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from gatekeeper.service.auth import Principal
from gatekeeper.service.deps import Db
from gatekeeper.service.pages.params import KINDS, PageFilters, PageInputError, page_limit
from gatekeeper.service.pages.queries import readable_projects
from gatekeeper.service.pages.routes import PAGE_HEADERS, Viewer, render, router
from gatekeeper.service.workspace.listing import list_records
from gatekeeper.service.workspace.sample import sample_records

__all__ = ["REPORT_FORMATS", "page_cursor", "records", "report_links"]

REPORT_FORMATS = ("html", "pdf", "csv")
_PAGE_SIZE = 50
_SAMPLE_MAX = 1000


def page_cursor(request: Request, name: str) -> int | None:
    """The log index of `?older=` or `?newer=` (None when absent)."""
    value = request.query_params.get(name, "")
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 18):
        raise PageInputError(f"{name}: not a page cursor")
    return int(value)


def _sample_size(value: str) -> int:
    if not (value.isascii() and value.isdigit() and 1 <= int(value[:5]) <= _SAMPLE_MAX):
        raise PageInputError(f"sample: draw 1 to {_SAMPLE_MAX} records")
    return int(value)


def _seed(value: str) -> str:
    if len(value) > 64 or not value.isprintable():
        raise PageInputError("seed: at most 64 printable characters")
    return value


def report_links(filters: PageFilters, **extra: str | int | None) -> list[tuple[str, str]]:
    """The audit report's links (label, href) with `filters` applied; none without a project."""
    if not filters["project"]:
        return []
    return [(f.upper(), filters.link("/ui/report", **extra, format=f)) for f in REPORT_FORMATS]


@router.get("/records")
def records(request: Request, connection: Db, viewer: Viewer) -> Response:
    """The records the filters select, newest first, with the total and both-way paging."""
    filters = PageFilters.from_query(request.query_params)
    where = filters.record_filter(viewer)
    if sample := request.query_params.get("sample", "").strip():
        return _sample(request, connection, viewer, filters, _sample_size(sample))
    limit = page_limit(request.query_params.get("limit", ""))
    older, newer = page_cursor(request, "older"), page_cursor(request, "newer")
    if older is not None and newer is not None:
        raise PageInputError("older, newer: page one way at a time")
    page = list_records(connection, where, limit=limit, older_than=older, newer_than=newer)
    kept = None if limit == _PAGE_SIZE else limit
    return render(
        request,
        "records.html",
        filters=filters,
        kinds=KINDS,
        projects=readable_projects(connection, viewer),
        rows=page.records,
        total=page.total,
        sample=None,
        older_url=None
        if page.older is None
        else filters.link("/ui/records", limit=kept, older=page.older),
        newer_url=None
        if page.newer is None
        else filters.link("/ui/records", limit=kept, newer=page.newer),
        newest_url=None
        if older is None and newer is None
        else filters.link("/ui/records", limit=kept),
        reports=report_links(filters),
    )


def _sample(
    request: Request, connection: Db, viewer: Principal, filters: PageFilters, size: int
) -> Response:
    seed = _seed(request.query_params.get("seed", "").strip())
    if not seed:
        chosen = filters.link("/ui/records", sample=size, seed=secrets.token_hex(4))
        return RedirectResponse(chosen, status_code=303, headers=PAGE_HEADERS)
    drawn = sample_records(connection, filters.record_filter(viewer), size, seed)
    return render(
        request,
        "records.html",
        filters=filters,
        kinds=KINDS,
        projects=readable_projects(connection, viewer),
        rows=drawn.records,
        total=drawn.population,
        sample=drawn,
        older_url=None,
        newer_url=None,
        newest_url=filters.link("/ui/records"),
        reseed_url=filters.link("/ui/records", sample=size),
        reports=report_links(filters, sample=size, seed=seed),
    )
