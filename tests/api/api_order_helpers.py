# SPDX-License-Identifier: MIT
"""Vehicles with an open oil alert, written directly (shared by the API tests)."""

from psycopg.types.json import Jsonb

from db.registry import create_vehicle


def oil_alert(conn, vin, home=(48.14, 11.58)):
    """A vehicle at ``home`` with an oil-life prediction and its open alert; the vehicle id."""
    vehicle_id = create_vehicle(conn, vin=vin, home_lat=home[0], home_lon=home[1])
    prediction_id = conn.execute(
        "INSERT INTO predictions (vehicle_id, model, model_version, time, value, unit, "
        "remaining_km, evidence) VALUES (%s, 'oil_life', 't', now(), 12, '%%', 640, %s) "
        "RETURNING prediction_id",
        (vehicle_id, Jsonb({"oil_life_pct": 12})),
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO alerts (vehicle_id, kind, severity, message, prediction_id) "
        "VALUES (%s, 'oil_change', 'warning', 'Oil life 12 %%', %s)",
        (vehicle_id, prediction_id),
    )
    return vehicle_id
