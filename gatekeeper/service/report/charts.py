"""The trend charts of the report (9.1.3) as geometry the template draws as inline SVG: one
line per measure over the weeks, readable axes, a table beside each for screen readers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gatekeeper.service.workspace.models import TrendPoint

__all__ = ["Chart", "trend_charts"]

WIDTH, HEIGHT = 480, 180
_LEFT, _RIGHT, _TOP, _BOTTOM = 60, 12, 12, 30
_MAX_X_LABELS = 8


@dataclass(frozen=True)
class Chart:
    """One measure over the weeks: the polyline, its dots and both axes, in SVG units."""

    title: str
    unit: str
    points: str
    dots: tuple[tuple[float, float, str], ...]
    """(x, y, the value as text) of each week that measured it."""
    y_ticks: tuple[tuple[float, str], ...]
    x_labels: tuple[tuple[float, str], ...]
    rows: tuple[tuple[str, str], ...]
    """(week, value) for the table beside the chart."""
    width: int = WIDTH
    height: int = HEIGHT
    left: int = _LEFT
    bottom: float = HEIGHT - _BOTTOM


def _scale_max(values: Sequence[float], percent: bool) -> float:
    if percent:
        return 100.0
    top = int(max(values, default=0.0) * 1.1) + 1
    return float(max(2, top + top % 2))  # even: the middle tick is a whole number


def _chart(
    title: str,
    unit: str,
    points: Sequence[TrendPoint],
    value: Callable[[TrendPoint], float | None],
    percent: bool,
) -> Chart:
    measured = [(p, v) for p in points if (v := value(p)) is not None]
    top = _scale_max([v for _, v in measured], percent)
    span_x = WIDTH - _LEFT - _RIGHT
    span_y = HEIGHT - _TOP - _BOTTOM
    step = span_x / max(1, len(points) - 1)
    x_of = {
        p.week: _LEFT + (i * step if len(points) > 1 else span_x / 2) for i, p in enumerate(points)
    }

    def y_of(v: float) -> float:
        return round(_TOP + span_y * (1 - v / top), 1)

    def shown(v: float) -> str:
        return f"{v:.0f} %" if percent else f"{v:.0f}"

    dots = tuple((round(x_of[p.week], 1), y_of(v), shown(v)) for p, v in measured)
    every = max(1, -(-len(points) // _MAX_X_LABELS))
    return Chart(
        title=title,
        unit=unit,
        points=" ".join(f"{x},{y}" for x, y, _ in dots),
        dots=dots,
        y_ticks=tuple((y_of(top * f), shown(top * f)) for f in (0, 0.5, 1)),
        x_labels=tuple(
            (round(x_of[p.week], 1), p.week.strftime("%d %b"))
            for i, p in enumerate(points)
            if i % every == 0
        ),
        rows=tuple(
            (p.week.isoformat(), "—" if (v := value(p)) is None else shown(v)) for p in points
        ),
    )


def trend_charts(points: Sequence[TrendPoint]) -> tuple[Chart, ...]:
    """Pass rate, line coverage, tests and flaky tests per week (empty without weeks)."""
    if not points:
        return ()
    return (
        _chart("Pass rate", "% of records that passed", points, lambda p: p.pass_rate * 100, True),
        _chart(
            "Line coverage",
            "mean % of lines covered",
            points,
            lambda p: None if p.line_rate is None else p.line_rate * 100,
            True,
        ),
        _chart(
            "Tests",
            "tests in the week's newest record",
            points,
            lambda p: None if p.tests_total is None else float(p.tests_total),
            False,
        ),
        _chart(
            "Flaky tests",
            "flaky tests summed over the week",
            points,
            lambda p: float(p.tests_flaky),
            False,
        ),
    )
