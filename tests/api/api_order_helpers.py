# SPDX-License-Identifier: MIT
"""Vehicles with an open oil alert, and shops open to take their orders (shared by the API
tests)."""

import datetime as dt

import factories

from orders.directory import ShopRecord, upsert_shops
from orders.slots import open_slots

WEEK = {d: [["00:00", "23:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def oil_shops(conn, prices: dict[str, float]) -> None:
    """A shop per name in ``prices`` near Munich, each a little further east, changing oil at
    its price, open all week with free one-hour slots for two weeks."""
    upsert_shops(
        conn=conn,
        records=[
            ShopRecord.model_validate(
                {
                    "ref": name,
                    "name": name,
                    "lat": 48.14,
                    "lon": 11.58 + i / 100,
                    "capabilities": ["oil_change"],
                    "hours": WEEK,
                    "prices": {"OIL-CHG": price},
                }
            )
            for i, (name, price) in enumerate(prices.items())
        ],
    )
    open_slots(conn=conn, start=dt.datetime.now(dt.UTC), days=14, slot_h=1)


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
