# SPDX-License-Identifier: MIT
"""Vehicles with an open oil alert (shared by the API tests)."""

import factories


def raise_oil_alert(conn, vehicle_id: int) -> int:
    """An oil-life prediction of 12 % by the database's clock and its open alert; the alert's
    id."""
    prediction = factories.prediction(
        conn,
        vehicle_id,
        model_version="t",
        time=factories.DB_NOW,
        remaining_km=640,
        evidence={"oil_life_pct": 12},
    )
    return factories.alert(conn, vehicle_id, prediction_id=prediction.prediction_id).alert_id


def oil_alert(conn, vin, home=(48.14, 11.58)):
    """A vehicle at ``home`` with an oil-life prediction and its open alert; the vehicle id."""
    vehicle_id = factories.vehicle(conn, vin=vin, home=home).vehicle_id
    raise_oil_alert(conn, vehicle_id)
    return vehicle_id
