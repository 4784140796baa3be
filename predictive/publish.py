# SPDX-License-Identifier: MIT
"""Writing predictions, and raising an alert when one crosses its threshold."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from predictive import brakes, oil
from predictive.health import (
    BRAKE_MODEL,
    OIL_MODEL,
    PREDICTION_COLUMNS,
    Prediction,
    prediction_from_row,
)
from predictive.totals import BrakeTotals, OilTotals

# Bump when a model's equations or constants change: totals from another version are not
# continued but rebuilt from the last service.
OIL_VERSION = "oil-revs-temp-1"
BRAKE_VERSION = "brake-energy-1"
# Oil life at or below this makes the alert critical rather than a warning.
OIL_CRITICAL_PCT = 5.0


def _km_text(km: float | None) -> str:
    if km is None:
        return ""
    rounded = round(km, -2) if km >= 1000 else round(km, -1)
    return f", about {rounded:,.0f} km left"


def _insert(
    conn: psycopg.Connection,
    vehicle_id: int,
    model: str,
    version: str,
    now: datetime,
    value: float,
    unit: str,
    remaining: float | None,
    evidence: dict[str, Any],
) -> Prediction:
    row = conn.execute(
        "INSERT INTO predictions (vehicle_id, model, model_version, time, value, unit, "
        f"remaining_km, evidence) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
        f"RETURNING {PREDICTION_COLUMNS}",
        (vehicle_id, model, version, now, value, unit, remaining, Jsonb(evidence)),
    ).fetchone()
    assert row is not None
    return prediction_from_row(row)


def _alert(
    conn: psycopg.Connection, pred: Prediction, kind: str, critical: bool, message: str
) -> int | None:
    # The partial unique index allows one unresolved alert per (vehicle, kind): re-evaluating
    # a vehicle that is still below the threshold must not raise it again.
    row = conn.execute(
        "INSERT INTO alerts (vehicle_id, kind, severity, message, prediction_id) "
        "VALUES (%s, %s, %s, %s, %s) "
        "ON CONFLICT (vehicle_id, kind) WHERE status <> 'resolved' DO NOTHING RETURNING alert_id",
        (pred.vehicle_id, kind, "critical" if critical else "warning", message, pred.prediction_id),
    ).fetchone()
    return None if row is None else int(row[0])


def oil_prediction(
    *,
    conn: psycopg.Connection,
    vehicle_id: int,
    now: datetime,
    t: OilTotals,
    baseline_s: float | None,
    alert_pct: float,
) -> Prediction:
    """Store the oil-life prediction from these totals; raise the oil alert below threshold."""
    effective = t.effective_revs + t.unobserved_km * oil.NOMINAL_EFFECTIVE_REVS_PER_KM
    life = oil.oil_life_pct(effective)
    rate = t.revs_per_km()
    remaining = oil.remaining_km(effective, rate)
    evidence = {
        "oil_life_pct": round(life, 2),
        "km_since_oil_change": round(t.km, 1),
        "effective_revolutions": round(effective),
        "km_before_first_reading": round(t.unobserved_km, 1),
        "revolutions": round(t.revolutions),
        "recent_effective_revs_per_km": None if rate is None else round(rate, 1),
        "budget_effective_revolutions": oil.BUDGET_EFFECTIVE_REVS,
        "baseline_s": baseline_s,
        "state": t.to_json(),
    }
    pred = _insert(conn, vehicle_id, OIL_MODEL, OIL_VERSION, now, life, "%", remaining, evidence)
    if life <= alert_pct:
        message = f"Oil life {life:.0f} %{_km_text(remaining)}"
        _alert(conn, pred, "oil_change", life <= OIL_CRITICAL_PCT, message)
    return pred


def brake_prediction(
    *,
    conn: psycopg.Connection,
    vehicle_id: int,
    now: datetime,
    t: BrakeTotals,
    baseline_s: float | None,
    measured_mm: tuple[float, float],
    alert_mm: float,
) -> Prediction:
    """Store the brake-pad prediction from these totals; raise the pad alert below threshold."""
    braking_mj = t.braking_mj + t.unobserved_km * brakes.NOMINAL_MJ_PER_KM
    wear_front, wear_rear = brakes.pad_wear_mm(braking_mj)
    front = max(0.0, measured_mm[0] - wear_front)
    rear = max(0.0, measured_mm[1] - wear_rear)
    rate = t.mj_per_km()
    remaining = brakes.remaining_km(front, rear, rate)
    evidence = {
        "pad_front_mm": round(front, 2),
        "pad_rear_mm": round(rear, 2),
        "km_since_pads_measured": round(t.km, 1),
        "braking_energy_mj": round(braking_mj, 3),
        "km_before_first_reading": round(t.unobserved_km, 1),
        "recent_braking_mj_per_km": None if rate is None else round(rate, 4),
        "measured_front_mm": measured_mm[0],
        "measured_rear_mm": measured_mm[1],
        "baseline_s": baseline_s,
        "state": t.to_json(),
    }
    thinner = min(front, rear)
    pred = _insert(
        conn, vehicle_id, BRAKE_MODEL, BRAKE_VERSION, now, thinner, "mm", remaining, evidence
    )
    if thinner <= alert_mm:
        # Front and rear wear at fixed proportions, so the thinner pad is the one to name.
        axle = "Front" if front <= rear else "Rear"
        _alert(
            conn,
            pred,
            "brake_pads",
            thinner <= brakes.MIN_PAD_MM,
            f"{axle} brake pads {thinner:.1f} mm{_km_text(remaining)}",
        )
    return pred
