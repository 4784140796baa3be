# SPDX-License-Identifier: MIT
"""Vehicles with predictions and alerts, written directly (shared by the tests here)."""

from datetime import UTC, datetime
from math import asin, cos, radians, sin, sqrt

import factories

BERLIN = (52.52, 13.405)
# The tests' clock is the real one (or a faked one, see README.md "Testing"): every time the
# code under test stamps comes from it, never from the database's now().
NOW = datetime.now(UTC).replace(microsecond=0)


def haversine_km(a, b):
    """Great-circle distance, spelled out independently of the SQL under test."""
    (lat1, lon1), (lat2, lon2) = (map(radians, a), map(radians, b))
    h = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * asin(sqrt(h))


def vehicle_with_alert(
    conn, *, vin, kind="oil_change", home=BERLIN, odometer_km=23_456.7, evidence=None
):
    """A vehicle, its state, one prediction and an open alert; returns (vehicle_id, alert_id)."""
    vehicle_id = factories.vehicle(
        conn, vin=vin, home_lat=home and home[0], home_lon=home and home[1]
    ).vehicle_id
    factories.vehicle_state(conn, vehicle_id, last_seen=NOW, odometer_km=odometer_km)
    model, value = ("oil_life", 12.0) if kind == "oil_change" else ("brake_pads", 3.9)
    evidence = evidence or {"oil_life_pct": 12.0, "state": {"effective_revs": 1.0}}
    prediction = factories.prediction(
        conn, vehicle_id, model=model, value=value, time=NOW, remaining_km=640, evidence=evidence
    )
    alert = factories.alert(
        conn,
        vehicle_id,
        kind=kind,
        message="Oil life 12 %, about 640 km left",
        prediction_id=prediction.prediction_id,
        created_at=NOW,
    )
    return vehicle_id, alert.alert_id
