# SPDX-License-Identifier: MIT
"""Reading the models' latest predictions back, and the bands people see.

Exceptions::

    PredictiveError
     └── VehicleNotFound
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import psycopg
from psycopg import sql

from db.rows import records
from predictive import brakes
from predictive.thresholds import OIL_DUE_SOON_PCT, PAD_DUE_SOON_MM

OIL_MODEL = "oil_life"
BRAKE_MODEL = "brake_pads"

# Alert tiers of the wear models, least severe first. "change_soon" is the threshold above
# (configurable: settings.oil_alert_pct / pad_alert_mm); the others are fixed.
TIERS = ("change_soon", "due_now", "overdue")
OIL_DUE_NOW_PCT = 5.0
OIL_OVERDUE_PCT = 0.0
# Half a millimetre (≈ 2,500-3,000 km of mixed driving) before the minimum: book it now.
PAD_DUE_NOW_MM = 3.5
PAD_OVERDUE_MM = brakes.MIN_PAD_MM
TIER_SEVERITY = {"change_soon": "warning", "due_now": "critical", "overdue": "critical"}

# The band people see is the alert tier the same value raises (``oil_levels``/``pad_levels``,
# the thresholds of both): "due_soon" where the change-soon alert is, "due_now" and "overdue"
# where theirs are, "good" below every threshold.
Band = Literal["good", "due_soon", "due_now", "overdue"]
BAND_OF_TIER: dict[str | None, Band] = {
    None: "good",
    "change_soon": "due_soon",
    "due_now": "due_now",
    "overdue": "overdue",
}


def oil_levels(change_soon_pct: float = OIL_DUE_SOON_PCT) -> tuple[tuple[str, float], ...]:
    """The oil's tiers and the life (%) at or below which each applies, least severe first."""
    return (
        ("change_soon", change_soon_pct),
        ("due_now", OIL_DUE_NOW_PCT),
        ("overdue", OIL_OVERDUE_PCT),
    )


def pad_levels(change_soon_mm: float = PAD_DUE_SOON_MM) -> tuple[tuple[str, float], ...]:
    """The pads' tiers and the thinner pad's mm at or below which each applies."""
    return (
        ("change_soon", change_soon_mm),
        ("due_now", PAD_DUE_NOW_MM),
        ("overdue", PAD_OVERDUE_MM),
    )


def tier_of(value: float, levels: tuple[tuple[str, float], ...]) -> str | None:
    """The most severe tier whose level ``value`` is at or below; None if none applies."""
    tier = None
    for name, level in levels:
        if value <= level:
            tier = name
    return tier


class PredictiveError(Exception):
    """Base of this package's errors."""


class VehicleNotFound(PredictiveError):
    """No vehicle with this id."""


@dataclass(frozen=True)
class Prediction:
    """One stored prediction."""

    prediction_id: int
    vehicle_id: int
    model: str
    model_version: str
    time: datetime
    value: float
    unit: str
    remaining_km: float | None
    evidence: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        """The evidence without the model's internal running state."""
        return {k: v for k, v in self.evidence.items() if k != "state"}


# The columns of a ``Prediction``, in its fields' order: a row selected with them reads
# straight into one (``db.rows.records(conn, Prediction, ...)``).
PREDICTION_COLUMNS = (
    "prediction_id, vehicle_id, model, model_version, time, value, unit, remaining_km, evidence"
)
_LATEST_SQL = sql.SQL(
    "SELECT DISTINCT ON (model) {columns} FROM predictions "
    "WHERE vehicle_id = %s ORDER BY model, prediction_id DESC"
).format(columns=sql.SQL(PREDICTION_COLUMNS))


def latest_predictions(*, conn: psycopg.Connection, vehicle_id: int) -> dict[str, Prediction]:
    """The newest prediction of each model for a vehicle, keyed by model name."""
    return {p.model: p for p in records(conn, Prediction, _LATEST_SQL, (vehicle_id,))}


def oil_band(oil_life_pct: float, due_soon_pct: float = OIL_DUE_SOON_PCT) -> Band:
    """The band of an oil life: the alert tier it raises (``BAND_OF_TIER``)."""
    return BAND_OF_TIER[tier_of(oil_life_pct, oil_levels(due_soon_pct))]


def pad_band(pad_mm: float, due_soon_mm: float = PAD_DUE_SOON_MM) -> Band:
    """The band of the thinner pad: the alert tier it raises (``BAND_OF_TIER``)."""
    return BAND_OF_TIER[tier_of(pad_mm, pad_levels(due_soon_mm))]
