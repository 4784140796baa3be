# SPDX-License-Identifier: MIT
"""When a wearing part reaches each alert tier, from the vehicle's own recent usage.

Pure functions, no database. A part is one or more *levels* (oil: its life in percent; pads:
the front and the rear axle in mm), each with its current value and how much it loses per km
(the models' recent wear rate). The distance to a threshold is that of the first level to
reach it; the date follows from the vehicle's recent km per day.

Recent km per day comes from the running totals' decayed distance (``totals.RECENT_TAU_S``):
with ``recent_km`` = Σ km · exp(−age/τ) anchored at the last reading, a car that drove r km a
day since it was first seen D days ago has ``recent_km`` = r τ (1 − exp(−D/τ)), so
``usage_km_per_day`` inverts that. It is anchored at *now*, so days parked since the last
reading count as days without driving; a first day of data counts as a whole day, so a two-hour
test drive does not project 1,000 km a day.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from predictive.totals import RECENT_TAU_S

DAY_S = 86400.0
# The shortest observed span km per day is averaged over.
MIN_USAGE_SPAN_S = DAY_S
# Dates further out than this are not projected (a car that hardly moves).
MAX_PROJECTION_DAYS = 3650.0


@dataclass(frozen=True)
class Threshold:
    """An alert tier and the value at or below which it applies."""

    tier: str
    value: float


@dataclass(frozen=True)
class Projection:
    """Distance and date until a threshold is reached (0 km and now once reached)."""

    tier: str
    threshold: float
    km: float | None
    date: datetime | None
    reached: bool

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for alert and prediction evidence."""
        return {
            "threshold": self.threshold,
            "km": None if self.km is None else round(self.km, 1),
            "date": None if self.date is None else self.date.isoformat(),
            "reached": self.reached,
        }


def usage_km_per_day(
    *,
    recent_km: float,
    first_s: float | None,
    through_s: float | None,
    now_s: float,
    tau_s: float = RECENT_TAU_S,
) -> float | None:
    """Recent km per calendar day (decay-weighted), or None before any reading."""
    if first_s is None or through_s is None or recent_km < 0 or not math.isfinite(recent_km):
        return None
    span_s = max(now_s - first_s, through_s - first_s, MIN_USAGE_SPAN_S)
    parked = math.exp(-max(0.0, now_s - through_s) / tau_s)
    window_days = tau_s / DAY_S * -math.expm1(-span_s / tau_s)
    return recent_km * parked / window_days


def km_to(levels: Sequence[tuple[float, float | None]], threshold: float) -> float | None:
    """Km until the first level (current, loss per km) reaches ``threshold``.

    0 if one is already at or below it; None if no level that is above it has a known
    positive rate (so the distance cannot be told).
    """
    best: float | None = None
    for current, per_km in levels:
        if current <= threshold:
            return 0.0
        if per_km is None or not math.isfinite(per_km) or per_km <= 0:
            continue
        km = (current - threshold) / per_km
        best = km if best is None else min(best, km)
    return best


def project(
    *,
    levels: Sequence[tuple[float, float | None]],
    thresholds: Sequence[Threshold],
    km_per_day: float | None,
    now: datetime,
) -> list[Projection]:
    """Distance and date to each threshold at the recent wear rate and usage."""
    out = []
    for threshold in thresholds:
        km = km_to(levels, threshold.value)
        reached = km == 0.0
        date: datetime | None = None
        if reached:
            date = now
        elif km is not None and km_per_day is not None and km_per_day > 0:
            days = km / km_per_day
            if days <= MAX_PROJECTION_DAYS:
                date = now + timedelta(days=days)
        out.append(Projection(threshold.tier, threshold.value, km, date, reached))
    return out


def tier_for(value: float, thresholds: Sequence[Threshold]) -> str | None:
    """The most severe tier whose threshold ``value`` is at or below (thresholds ordered from
    the least to the most severe), or None if none applies."""
    tier = None
    for threshold in thresholds:
        if value <= threshold.value:
            tier = threshold.tier
    return tier


def trend(per_km: float | None, km_per_day: float | None) -> dict[str, float | None]:
    """The loss per 1000 km and per day (None where a rate is unknown)."""
    per_1000 = None if per_km is None else per_km * 1000.0
    per_day = None if per_km is None or km_per_day is None else per_km * km_per_day
    return {
        "per_1000_km": None if per_1000 is None else round(per_1000, 4),
        "per_day": None if per_day is None else round(per_day, 4),
    }
