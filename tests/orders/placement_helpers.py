# SPDX-License-Identifier: MIT
"""A small directory around Berlin with open slots, and orders ready to place."""

from datetime import datetime, timedelta

import factories
from orders_helpers import BERLIN, NOW, vehicle_with_alert

from orders.directory import ShopRecord, upsert_shops
from orders.policy import PlacementPolicy
from orders.scoring import MatchWeights
from orders.service import create_order_for_alert
from orders.slots import open_slots

MIN = timedelta(minutes=1)


def next_monday_8(after: datetime) -> datetime:
    """The first Monday 08:00 UTC after ``after``."""
    day = after.replace(hour=8, minute=0, second=0, microsecond=0)
    day += timedelta(days=(7 - day.weekday()) % 7)
    return day if day > after else day + timedelta(days=7)


T0 = next_monday_8(NOW)  # a Monday morning after the orders were created (at NOW)
WEEK = {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
# Nearest first; distance alone decides the ranking in these tests.
SHOPS = [("A", 0.001), ("B", 0.01), ("C", 0.02), ("D", 0.03), ("E", 0.04)]
BY_DISTANCE = MatchWeights(distance=1, quality=0, response=0, price=0, capacity=0)


def policy(**extra):
    """The platform's policy, ranking by distance only."""
    return PlacementPolicy(**({"weights": BY_DISTANCE} | extra))


def berlin_shops(conn, capabilities=("oil_change", "brake_pads")):
    """Five shops east of Berlin's centre, nearest first; {name: shop_id}."""
    records = [
        ShopRecord.model_validate(
            {
                "ref": name,
                "name": name,
                "lat": BERLIN[0],
                "lon": BERLIN[1] + dlon,
                "capabilities": list(capabilities),
                "hours": WEEK,
                "prices": {"OIL-CHG": 100 + i, "BRK-PAD-F": 200 + i},
            }
        )
        for i, (name, dlon) in enumerate(SHOPS)
    ]
    upsert_shops(conn=conn, records=records)
    open_slots(conn=conn, start=T0, days=14)
    return dict(conn.execute("SELECT name, shop_id FROM shops").fetchall())


def open_order(conn, vin="WLDSP000000000001", kind="oil_change", **extra):
    """A vehicle in Berlin with an alert and its proposed order; (vehicle_id, order_id)."""
    vehicle_id, alert_id = vehicle_with_alert(conn, vin=vin, kind=kind, **extra)
    return vehicle_id, create_order_for_alert(conn=conn, alert_id=alert_id, now=NOW)


def brake_order(conn, vehicle_id, front_mm=3.9, rear_mm=6.0):
    """A brake-pad alert of an existing vehicle and its order's id."""
    alert_id = factories.alert(
        conn, vehicle_id, kind="brake_pads", message="Front pads 3.9 mm", created_at=NOW
    ).alert_id
    factories.prediction(
        conn,
        vehicle_id,
        model="brake_pads",
        value=min(front_mm, rear_mm),
        time=NOW,
        model_version="t",
        evidence={"pad_front_mm": front_mm, "pad_rear_mm": rear_mm},
    )
    return create_order_for_alert(conn=conn, alert_id=alert_id, now=NOW)
