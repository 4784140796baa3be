# SPDX-License-Identifier: MIT
"""Assembling a vehicle's health from its state, predictions and alerts."""

from __future__ import annotations

import psycopg

from api.vehicles.schemas import AlertOut, BrakeHealth, OilHealth, VehicleHealth
from predictive import BRAKE_MODEL, OIL_MODEL, latest_predictions, oil_band, pad_band


def get_health(*, conn: psycopg.Connection, vehicle_id: int) -> VehicleHealth | None:
    """The vehicle's health, or None if there is no such vehicle."""
    row = conn.execute(
        "SELECT v.vin, s.odometer_km, s.last_seen, s.latest FROM vehicles v "
        "LEFT JOIN vehicle_state s USING (vehicle_id) WHERE v.vehicle_id = %s",
        (vehicle_id,),
    ).fetchone()
    if row is None:
        return None
    predictions = latest_predictions(conn=conn, vehicle_id=vehicle_id)
    oil = brakes = None
    if (p := predictions.get(OIL_MODEL)) is not None:
        oil = OilHealth(
            oil_life_pct=round(p.value, 1),
            remaining_km=p.remaining_km,
            band=oil_band(p.value),
            as_of=p.time,
        )
    if (p := predictions.get(BRAKE_MODEL)) is not None:
        front = float(p.evidence.get("pad_front_mm", p.value))
        rear = float(p.evidence.get("pad_rear_mm", p.value))
        brakes = BrakeHealth(
            pad_front_mm=front,
            pad_rear_mm=rear,
            remaining_km=p.remaining_km,
            band=pad_band(min(front, rear)),
            as_of=p.time,
        )
    alerts = conn.execute(
        "SELECT alert_id, kind, severity, message, status, created_at, tier, evidence FROM alerts "
        "WHERE vehicle_id = %s AND status <> 'resolved' ORDER BY alert_id",
        (vehicle_id,),
    ).fetchall()
    return VehicleHealth(
        vehicle_id=vehicle_id,
        vin=row[0],
        odometer_km=row[1],
        last_seen=row[2],
        oil=oil,
        brake_pads=brakes,
        open_alerts=[
            AlertOut(
                alert_id=a[0],
                kind=a[1],
                severity=a[2],
                message=a[3],
                status=a[4],
                created_at=a[5],
                tier=a[6],
                evidence=a[7],
            )
            for a in alerts
        ],
        latest=row[3] or {},
    )
