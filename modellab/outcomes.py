# SPDX-License-Identifier: MIT
"""One life's outcome: when the alert came against when the truth crossed its threshold."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from modellab.drives import FloatArray
from modellab.policy import LEAD_DAYS, LEAD_KM


@dataclass(frozen=True)
class LifeOutcome:
    """Alert against the true threshold over one life (from a service, ignoring the alert)."""

    alert: int | None  # index of the first trip whose prediction reached the alert level
    crossing: int | None  # index of the first trip whose truth reached the threshold
    lead_km: float | None  # km from the alert to the crossing (negative: alert too late)
    lead_days: float | None
    early: bool  # the alert came while the truth was above the "too early" level

    @property
    def in_time(self) -> bool:
        """A crossing alerted at least LEAD_KM or LEAD_DAYS ahead."""
        return (
            self.lead_km is not None
            and self.lead_days is not None
            and (self.lead_km >= LEAD_KM or self.lead_days >= LEAD_DAYS)
        )


def life_outcome(
    day: FloatArray,
    cum_km: FloatArray,
    true_left: FloatArray,
    predicted_left: FloatArray,
    *,
    alert_at: float,
    threshold: float,
    early_above: float,
) -> LifeOutcome:
    """When the alert came and the truth crossed, over one life's trips (arrays aligned)."""
    alerts = np.flatnonzero(predicted_left <= alert_at)
    crossings = np.flatnonzero(true_left <= threshold)
    alert = int(alerts[0]) if alerts.size else None
    crossing = int(crossings[0]) if crossings.size else None
    lead_km = lead_days = None
    if crossing is not None:
        if alert is None or alert > crossing:
            lead_km, lead_days = None, None
        else:
            lead_km = float(cum_km[crossing] - cum_km[alert])
            lead_days = float(day[crossing] - day[alert])
    early = alert is not None and bool(true_left[alert] > early_above)
    return LifeOutcome(alert, crossing, lead_km, lead_days, early)


def first_due(cum_km: FloatArray, day: FloatArray, km: float, days: float) -> int | None:
    """First trip at or past ``km`` driven or ``days`` elapsed (a fixed-interval service)."""
    due = np.flatnonzero((cum_km >= km) | (day >= days))
    return int(due[0]) if due.size else None
