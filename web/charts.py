# SPDX-License-Identifier: MIT
"""The geometry of the car page's charts: a line over time with its thresholds, the predicted
path and its band, and bars of one value per day; drawn as inline SVG by ``car_chart.html``.

Why by hand and not a charting library: the owner pages must weigh under 150 kB on first load
and render in under 200 ms at p99, and work without JavaScript. pygal (3.1.3, the well-kept
SVG library we measured) draws one 90-point line in 20-44 kB and 11-20 ms, embeds its own
style sheet and a random id in every chart, and has no band between two lines (the predicted
path's uncertainty) nor labelled threshold lines; three charts would take most of the page's
budget. The charts here are a few kB each, render in well under a millisecond, take their look
from ``app.css``, and leave every word to the template, so labels are translated and numbers,
dates and distances are in the user's language and units.

This module is pure: values in, coordinates out (SVG user units of a ``WIDTH`` x ``HEIGHT``
view box, y growing downwards). Tick labels are formatted here with babel for the user's
locale; titles, descriptions and threshold names are the template's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from babel import Locale
from babel.dates import format_skeleton
from babel.numbers import format_decimal

# Sized for a phone (a column about 320 px wide): drawn at nearly its own size there, the
# labels' 11-12 unit font stays readable; wider columns scale it up.
WIDTH = 340.0
HEIGHT = 200.0
LEFT, RIGHT, TOP, BOTTOM = 42.0, 8.0, 10.0, 24.0
VIEW_BOX = f"0 0 {WIDTH:g} {HEIGHT:g}"
X_TICKS = 4
# Threshold labels closer than this (a line of text) go to opposite ends.
LABEL_GAP = 13.0


@dataclass(frozen=True)
class Tick:
    """A labelled position on an axis."""

    at: float
    label: str


@dataclass(frozen=True)
class Threshold:
    """A horizontal line at a tier's level."""

    tier: str
    value: float
    y: float
    label: str  # the value with its unit, e.g. "15 %"
    left: bool = False  # its label at the left end (too close to the previous one's)


@dataclass(frozen=True)
class LineChart:
    """A value over time: what was observed (solid), the predicted path (dashed) with its
    band (shaded), the tiers' thresholds (dotted, labelled) and today (a vertical line)."""

    observed: str  # SVG path data; "" when nothing was observed
    last: tuple[float, float] | None  # the newest observed point, marked
    predicted: str
    band: str  # polygon points; "" without a band
    thresholds: list[Threshold]
    today_x: float | None
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    box: tuple[float, float, float, float] = (LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM)


@dataclass(frozen=True)
class Bar:
    """One day's bar, its value formatted for its tooltip."""

    x: float
    y: float
    width: float
    height: float
    day: date
    label: str


@dataclass(frozen=True)
class BarChart:
    """One value per day as bars."""

    bars: list[Bar]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    box: tuple[float, float, float, float] = (LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM)


def nice_step(top: float, most: int = 5) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving at most ``most`` steps to
    ``top``."""
    if top <= 0:
        return 1.0
    raw = top / most
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= factor * power:
            return factor * power
    return 10.0 * power  # pragma: no cover - the loop always returns


def nice_top(value: float) -> float:
    """The smallest round step multiple at or above ``value`` (at least 1)."""
    value = max(value, 1.0)
    step = nice_step(value)
    return math.ceil(value / step - 1e-9) * step


class _Scale:
    """Maps times and values to the plot box."""

    def __init__(self, start: datetime, end: datetime, top: float) -> None:
        self.start, self.span = start, max((end - start).total_seconds(), 1.0)
        self.top = top
        self.x0, self.x1 = LEFT, WIDTH - RIGHT
        self.y0, self.y1 = HEIGHT - BOTTOM, TOP

    def x(self, when: datetime) -> float:
        return self.x0 + (self.x1 - self.x0) * (when - self.start).total_seconds() / self.span

    def y(self, value: float) -> float:
        return self.y0 + (self.y1 - self.y0) * value / self.top


def _path(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(points))


def _number(value: float, locale: Locale) -> str:
    return format_decimal(value, format="#,##0.#", locale=locale)


def _day_ticks(start: datetime, end: datetime, locale: Locale) -> list[tuple[datetime, str]]:
    """About ``X_TICKS`` whole days evenly spread from ``start`` to ``end``."""
    days = max(1, round((end - start).total_seconds() / 86400))
    step = max(1, math.ceil(days / X_TICKS))
    first = datetime.combine(start.date(), datetime.min.time(), start.tzinfo)
    if first < start:
        first += timedelta(days=1)
    ticks = []
    at = first
    while at <= end:
        ticks.append((at, format_skeleton("MMMd", at, locale=locale)))
        at += timedelta(days=step)
    return ticks


def _y_ticks(scale: _Scale, unit: str, locale: Locale) -> list[Tick]:
    step = nice_step(scale.top, 4)
    count = math.floor(scale.top / step + 1e-9)
    return [
        Tick(scale.y(i * step), f"{_number(i * step, locale)} {unit}".strip())
        for i in range(count + 1)
    ]


def line_chart(
    *,
    observed: Sequence[tuple[datetime, float]],
    predicted: Sequence[tuple[datetime, float]],
    band: Sequence[tuple[datetime, float, float]],
    thresholds: Sequence[tuple[str, float]],
    start: datetime,
    end: datetime,
    today: datetime,
    top: float,
    unit: str,
    locale: Locale,
) -> LineChart:
    """The geometry of a line chart from ``start`` to ``end`` and 0 to ``top``; the template
    clips whatever lies outside the box (a predicted path running past ``end``)."""
    scale = _Scale(start, end, top)
    band_points = [(scale.x(t), scale.y(hi)) for t, _, hi in band] + [
        (scale.x(t), scale.y(lo)) for t, lo, _ in reversed(band)
    ]
    seen = [(scale.x(t), scale.y(v)) for t, v in observed]
    return LineChart(
        observed=_path(seen),
        last=seen[-1] if seen else None,
        predicted=_path([(scale.x(t), scale.y(v)) for t, v in predicted]),
        band=" ".join(f"{x:.1f},{y:.1f}" for x, y in band_points),
        thresholds=_labelled(
            [
                Threshold(tier, value, scale.y(value), f"{_number(value, locale)} {unit}")
                for tier, value in thresholds
            ]
        ),
        today_x=scale.x(today) if start <= today <= end else None,
        x_ticks=[Tick(scale.x(t), label) for t, label in _day_ticks(start, end, locale)],
        y_ticks=_y_ticks(scale, unit, locale),
    )


def _labelled(lines: list[Threshold]) -> list[Threshold]:
    """The thresholds with their labels moved to the other end where two would overlap."""
    out: list[Threshold] = []
    for line in sorted(lines, key=lambda t: t.y):
        near = out and abs(line.y - out[-1].y) < LABEL_GAP
        left = bool(near and not out[-1].left)
        out.append(Threshold(line.tier, line.value, line.y, line.label, left))
    return out


def bar_chart(
    *, days: Sequence[tuple[date, float]], start: date, end: date, unit: str, locale: Locale
) -> BarChart:
    """Bars of one value per day for the days ``start`` to ``end`` (inclusive); a day without
    a value has no bar."""
    span = (end - start).days + 1
    first = datetime.combine(start, datetime.min.time())
    last = first + timedelta(days=span)
    scale = _Scale(first, last, nice_top(max((v for _, v in days), default=0.0)))
    slot = (scale.x1 - scale.x0) / span
    bars = []
    for day, value in days:
        x = scale.x(datetime.combine(day, datetime.min.time()))
        y = scale.y(value)
        label = f"{format_skeleton('MMMd', day, locale=locale)}: {_number(value, locale)} {unit}"
        bars.append(Bar(x + slot * 0.15, y, slot * 0.7, scale.y0 - y, day, label))
    ticks = [Tick(x + slot / 2, label) for x, label in _bar_ticks(scale, first, last, locale)]
    return BarChart(bars=bars, x_ticks=ticks, y_ticks=_y_ticks(scale, unit, locale))


def _bar_ticks(
    scale: _Scale, first: datetime, last: datetime, locale: Locale
) -> list[tuple[float, str]]:
    ticks = _day_ticks(first, last - timedelta(days=1), locale)
    return [(scale.x(t), label) for t, label in ticks]


def period_bars(
    *,
    points: Sequence[tuple[date, float | None]],
    labels: Sequence[str],
    unit: str,
    locale: Locale,
    skeleton: str = "MMMd",
    low: float = 0.0,
    top: float | None = None,
) -> BarChart:
    """Bars of one value per period (a week or a month: one slot each, ticked with its first
    day by ``skeleton``), each titled by its ``labels`` entry; a period without a value has no
    bar, one of 0 a sliver on the zero line, so "nothing measured" and "zero" look different.
    From ``low`` (below zero: bars of negative values go down from the zero line, as NPS
    needs) to ``top`` (default: a round value above the highest)."""
    values = [v for _, v in points if v is not None]
    if top is None:  # up to a labelled line above the highest bar
        highest = nice_top(max(values, default=0.0))
        top = math.ceil(highest / nice_step(highest - low, 4) - 1e-9) * nice_step(highest - low, 4)
    x0, x1, y0, y1 = LEFT, WIDTH - RIGHT, HEIGHT - BOTTOM, TOP

    def y(value: float) -> float:
        return y0 + (y1 - y0) * (value - low) / (top - low)

    slot = (x1 - x0) / max(len(points), 1)
    zero = y(0.0)
    bars = []
    for i, ((day, value), label) in enumerate(zip(points, labels, strict=True)):
        if value is None:
            continue
        if value > 0:
            top_y, height = y(value), zero - y(value)
        elif value < 0:
            top_y, height = zero, y(value) - zero
        else:
            top_y, height = zero - 1.5, 1.5
        bars.append(Bar(x0 + slot * (i + 0.15), top_y, slot * 0.7, height, day, label))
    every = max(1, math.ceil(len(points) / 6))
    x_ticks = [
        Tick(x0 + slot * (i + 0.5), format_skeleton(skeleton, day, locale=locale))
        for i, (day, _) in enumerate(points)
        if i % every == 0
    ]
    step = nice_step(top - low, 4)
    count = math.floor((top - low) / step + 1e-9)
    y_ticks = [
        Tick(y(v), f"{format_decimal(v, format='#,##0.##', locale=locale)} {unit}".strip())
        for v in (low + i * step for i in range(count + 1))
    ]
    return BarChart(bars=bars, x_ticks=x_ticks, y_ticks=y_ticks)


def month_chart(
    *, months: Sequence[tuple[date, float]], unit: str, locale: Locale, least: float = 1.0
) -> BarChart:
    """Bars of one value per month (``months`` in order, each its slot; a zero keeps its slot
    and draws no bar), labelled with the month's short name: the fleet reports' charts. The
    axis reaches at least ``least`` (4 for counts: whole steps, never 0.25 of an alert)."""
    origin = datetime(2000, 1, 1)
    count = max(len(months), 1)
    top = nice_top(max([least, *(v for _, v in months)]))
    scale = _Scale(origin, origin + timedelta(days=count), top)
    slot = (scale.x1 - scale.x0) / count
    every = max(1, math.ceil(count / 6))  # at most six month names fit under a phone's chart
    bars, ticks = [], []
    for i, (month, value) in enumerate(months):
        x = scale.x0 + slot * i
        if i % every == 0:
            ticks.append(Tick(x + slot / 2, format_skeleton("MMM", month, locale=locale)))
        if value > 0:
            y = scale.y(value)
            name = format_skeleton("yMMM", month, locale=locale)
            label = f"{name}: {_number(value, locale)} {unit}".strip()
            bars.append(Bar(x + slot * 0.15, y, slot * 0.7, scale.y0 - y, month, label))
    return BarChart(bars=bars, x_ticks=ticks, y_ticks=_y_ticks(scale, unit, locale))
