"""The trends page (9.1.3): per project and ISO week, pass rate, line coverage, tests and flaky
tests, each as an SVG chart with a table beside it for screen readers and paper."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from gatekeeper.service.deps import Db
from gatekeeper.service.pages.params import PageFilters
from gatekeeper.service.pages.queries import readable_projects
from gatekeeper.service.pages.routes import Viewer, render, router
from gatekeeper.service.pages.svg import Series, count_ceiling, line_chart
from gatekeeper.service.workspace.models import TrendPoint
from gatekeeper.service.workspace.trends import weekly_trends

__all__ = ["Chart", "charts_of", "trends_page"]

_PROJECTS_SHOWN = 20


@dataclass(frozen=True)
class Chart:
    """One chart of a project: its SVG and the rows of the table beside it."""

    id: str
    title: str
    svg: Markup
    rows: list[tuple[str, str]]


def _percent(value: float) -> str:
    return f"{value * 100:.0f} %"


def _count(value: float) -> str:
    return f"{value:.0f}"


def _chart(prefix: str, key: str, series: Series) -> Chart:
    rows = [
        (label, "—" if value is None else series.fmt(value))
        for label, value in zip(series.labels, series.values, strict=True)
    ]
    return Chart(f"{prefix}-{key}", series.title, line_chart(series, f"{prefix}-{key}"), rows)


def charts_of(points: tuple[TrendPoint, ...], prefix: str) -> list[Chart]:
    """The four charts of one project's weekly points."""
    labels = [point.week.isoformat() for point in points]
    passed: list[float | None] = [point.pass_rate for point in points]
    lines: list[float | None] = [point.line_rate for point in points]
    tests: list[float | None] = [
        None if point.tests_total is None else float(point.tests_total) for point in points
    ]
    flaky: list[float | None] = [float(point.tests_flaky) for point in points]
    most_tests = max((value for value in tests if value is not None), default=0.0)
    most_flaky = max((value for value in flaky if value is not None), default=0.0)
    specs = [
        ("pass-rate", Series("Pass rate", labels, passed, 1.0, "pass rate", _percent)),
        ("line-rate", Series("Line coverage", labels, lines, 1.0, "lines", _percent)),
        ("tests", Series("Tests", labels, tests, count_ceiling(most_tests), "tests", _count)),
        ("flaky", Series("Flaky tests", labels, flaky, count_ceiling(most_flaky), "flaky", _count)),
    ]
    return [_chart(prefix, key, series) for key, series in specs]


@router.get("/trends")
def trends_page(request: Request, connection: Db, viewer: Viewer) -> HTMLResponse:
    """Weekly trends of the chosen project, or of each project the token may read."""
    filters = PageFilters.from_query(request.query_params)
    where = filters.record_filter(viewer)
    projects = readable_projects(connection, viewer)
    shown = [filters["project"]] if filters["project"] else projects[:_PROJECTS_SHOWN]
    sections = []
    for index, project in enumerate(shown):
        points = weekly_trends(connection, where.model_copy(update={"projects": (project,)}))
        sections.append((project, points, charts_of(points, f"p{index}")))
    return render(
        request,
        "trends.html",
        filters=filters,
        projects=projects,
        sections=sections,
        more=max(0, len(projects) - len(shown)) if not filters["project"] else 0,
    )
