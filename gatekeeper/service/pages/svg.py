"""Line charts as server-rendered SVG: readable axes, no script, every text escaped.

The charts use presentation attributes and the stylesheet's classes only (the pages' content
security policy allows no inline style), and scale to their container through the viewBox.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = ["TICKS", "Series", "count_ceiling", "line_chart", "nice_ceiling"]

_WIDTH, _HEIGHT = 480, 250
_LEFT, _RIGHT, _TOP, _BOTTOM = 88, 24, 14, 56
TICKS = 4
"""Gridlines above the zero line of every chart."""
_TICKS = TICKS
_MAX_LABELS = 4


@dataclass(frozen=True)
class Series:
    """One chart: its title, the x labels and the y values (None: not measured that week)."""

    title: str
    labels: Sequence[str]
    values: Sequence[float | None]
    y_max: float
    y_label: str
    fmt: Callable[[float], str]


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten at or above `value` (1 for 0)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop ends at 10 * power


def count_ceiling(value: float) -> float:
    """The top of an axis of counts: `TICKS` times a whole step of 1, 2 or 5 times a power of
    ten, so that every gridline falls on a whole number (4 for 0)."""
    needed = max(value, 1.0) / TICKS
    power = 10 ** math.floor(math.log10(needed)) if needed >= 1 else 1
    for step in (1, 2, 5, 10):
        if needed <= step * power:
            return float(TICKS * step * power)
    return float(TICKS * 10 * power)  # pragma: no cover - the loop ends at 10 * power


def _x(index: int, count: int) -> float:
    span = _WIDTH - _LEFT - _RIGHT
    return _LEFT + (span / 2 if count == 1 else span * index / (count - 1))


def _y(value: float, y_max: float) -> float:
    span = _HEIGHT - _TOP - _BOTTOM
    return _TOP + span * (1 - min(max(value / y_max, 0.0), 1.0))


def _axes(series: Series) -> list[str]:
    parts = []
    for tick in range(_TICKS + 1):
        value = series.y_max * tick / _TICKS
        y = _y(value, series.y_max)
        parts.append(
            f'<line class="grid" x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(series.fmt(value))}</text>"
        )
    count = len(series.labels)
    every = max(1, math.ceil(count / _MAX_LABELS))
    for index, label in enumerate(series.labels):
        if index % every and index != count - 1:
            continue
        x = _x(index, count)
        parts.append(
            f'<text class="tick" x="{x:.1f}" y="{_HEIGHT - _BOTTOM + 20}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    base = _HEIGHT - _BOTTOM
    right = _WIDTH - _RIGHT
    parts.append(f'<line class="axis" x1="{_LEFT}" x2="{right}" y1="{base}" y2="{base}"/>')
    parts.append(f'<line class="axis" x1="{_LEFT}" x2="{_LEFT}" y1="{_TOP}" y2="{base}"/>')
    parts.append(
        f'<text class="axis-label" x="{(_LEFT + _WIDTH - _RIGHT) / 2:.0f}" y="{_HEIGHT - 6}" '
        'text-anchor="middle">week (Monday, UTC)</text>'
        f'<text class="axis-label" x="14" y="{(_TOP + base) / 2:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {(_TOP + base) / 2:.0f})">{escape(series.y_label)}</text>'
    )
    return parts


def _lines(series: Series) -> list[str]:
    """The measured points, joined where consecutive weeks both have a value."""
    count = len(series.values)
    runs: list[list[tuple[float, float]]] = [[]]
    dots = []
    for index, value in enumerate(series.values):
        if value is None:
            runs.append([])
            continue
        point = (_x(index, count), _y(value, series.y_max))
        runs[-1].append(point)
        label = escape(f"{series.labels[index]}: {series.fmt(value)}")
        dots.append(
            f'<circle class="dot" cx="{point[0]:.1f}" cy="{point[1]:.1f}" r="5">'
            f"<title>{label}</title></circle>"
        )
    lines = [
        '<polyline class="line" fill="none" points="'
        + " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
        + '"/>'
        for run in runs
        if len(run) > 1
    ]
    return lines + dots


def line_chart(series: Series, chart_id: str) -> Markup:
    """`series` as an inline SVG line chart titled for screen readers (`chart_id` names it)."""
    ident = escape(chart_id)
    measured = sum(1 for value in series.values if value is not None)
    description = f"{measured} of {len(series.values)} weeks measured; the table beside lists them"
    body = "".join(_axes(series) + _lines(series))
    # every text in the chart went through escape(); the rest are numbers and fixed names
    return Markup(  # noqa: S704
        f'<svg class="chart" viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{ident}-title">{escape(series.title)}</title>'
        f'<desc id="{ident}-desc">{escape(description)}</desc>{body}</svg>'
    )
