# SPDX-License-Identifier: MIT
"""A lab's used-oil analysis, or a measurement of the brake pads, shows in the health at once.

``record_analysis`` stores the analysis (``oil_analysis.record``) and, in the same
transaction and on the same clock, publishes a fresh oil prediction (``evaluate_vehicle``
with ``publish``): a part-way sample anchors the oil life at the lab's figure less what was
consumed since (``oil_anchor``), raising or resolving the oil alert of its tier; a drained one
recalibrates the learned model. The API and the command line both record through it.

``record_pad_measurement`` does the same for pads measured outside a shop order (an
inspection): the thickness becomes the car's brake baseline (``db.registry``) and the pad
model restarts from it, raising or resolving the pad alert of its tier.
"""

from __future__ import annotations

from datetime import datetime

import psycopg

from db.registry import odometer_below, set_pads_measured
from predictive import brakes, oil_analysis
from predictive.evaluator import evaluate_vehicle
from predictive.health import (
    BRAKE_MODEL,
    OIL_DUE_SOON_PCT,
    OIL_MODEL,
    PAD_DUE_SOON_MM,
    Prediction,
    PredictiveError,
    VehicleNotFound,
)
from predictive.learned import LearnedModels


class PadMeasurementError(PredictiveError, ValueError):
    """A measurement that cannot be true: a pad below zero or thicker than a new one, an
    odometer below the car's last known reading (``db.registry.last_odometer``)."""


def record_analysis(
    conn: psycopg.Connection,
    *,
    vehicle_id: int,
    sampled_at: datetime,
    life_left_pct: float,
    drained: bool,
    now: datetime,
    sd_pct: float = oil_analysis.DEFAULT_SD_PCT,
    odometer_km: float | None = None,
    lab: str | None = None,
    recorded_by: str | None = None,
    learned_models: LearnedModels | None = None,
    oil_alert_pct: float = OIL_DUE_SOON_PCT,
) -> tuple[oil_analysis.OilAnalysis, Prediction | None]:
    """Store the analysis and publish the oil prediction it makes (None for a car with no
    engine oil)."""
    with conn.transaction():
        stored = oil_analysis.record(
            conn,
            vehicle_id=vehicle_id,
            sampled_at=sampled_at,
            life_left_pct=life_left_pct,
            drained=drained,
            sd_pct=sd_pct,
            odometer_km=odometer_km,
            lab=lab,
            recorded_by=recorded_by,
            now=now,
        )
        written = evaluate_vehicle(
            conn=conn,
            vehicle_id=vehicle_id,
            now=now,
            oil_alert_pct=oil_alert_pct,
            learned_models=learned_models,
            publish=[OIL_MODEL],
        )
    return stored, next((p for p in written if p.model == OIL_MODEL), None)


def record_pad_measurement(
    conn: psycopg.Connection,
    *,
    vehicle_id: int,
    front_mm: float,
    rear_mm: float,
    odometer_km: float | None,
    now: datetime,
    pad_alert_mm: float = PAD_DUE_SOON_MM,
) -> Prediction:
    """Make the measured thickness the car's brake baseline and publish the pad prediction
    it makes (the pad alert of its tier with it)."""
    for axle, mm in (("front", front_mm), ("rear", rear_mm)):
        if not 0.0 <= mm <= brakes.NEW_PAD_MM:
            raise PadMeasurementError(
                f"{axle} pads measured {mm} mm: a pad is 0 to {brakes.NEW_PAD_MM} mm thick"
            )
    last = (
        None
        if odometer_km is None
        else odometer_below(conn, vehicle_id=vehicle_id, odometer_km=odometer_km, at=now)
    )
    if last is not None:
        raise PadMeasurementError(
            f"odometer {odometer_km:,.1f} km is below the car's last known {last:,.1f} km: "
            "check the reading, or leave it out"
        )
    with conn.transaction():
        if not set_pads_measured(
            conn,
            vehicle_id=vehicle_id,
            measured_at=now,
            front_mm=front_mm,
            rear_mm=rear_mm,
            odometer_km=odometer_km,
        ):
            raise VehicleNotFound(vehicle_id)
        written = evaluate_vehicle(
            conn=conn,
            vehicle_id=vehicle_id,
            now=now,
            pad_alert_mm=pad_alert_mm,
            publish=[BRAKE_MODEL],
        )
    return next(p for p in written if p.model == BRAKE_MODEL)
