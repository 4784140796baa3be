# SPDX-License-Identifier: MIT
"""A lab's used-oil analysis shows in the vehicle's health at once.

``record_analysis`` stores the analysis (``oil_analysis.record``) and, in the same
transaction and on the same clock, publishes a fresh oil prediction (``evaluate_vehicle``
with ``publish``): a part-way sample anchors the oil life at the lab's figure less what was
consumed since (``oil_anchor``), raising or resolving the oil alert of its tier; a drained one
recalibrates the learned model. The API and the command line both record through it.
"""

from __future__ import annotations

from datetime import datetime

import psycopg

from predictive import oil_analysis
from predictive.evaluator import evaluate_vehicle
from predictive.health import OIL_DUE_SOON_PCT, OIL_MODEL, Prediction
from predictive.learned import LearnedModels


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
