# SPDX-License-Identifier: MIT
"""Orders for the web tests: shops near a car's home, an owner's car whose oil needs changing,
its order proposed and waiting for the owner, and the shop's side of the visit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import factories
from web_helpers import Person, make_car

from orders import feedback, offers, placement
from orders.directory import ShopRecord, upsert_shops
from orders.policy import PlacementPolicy
from orders.service import create_order_for_alert
from orders.slots import open_slots

HOME = (48.137, 11.575)
WEEK = {d: [["07:00", "19:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
SHOPS = (
    ("Becker Garage", 0.01, 89.0, 4.6),
    ("Isar Auto Service", 0.03, 99.0, 4.8),
    ("Werkstatt Nord", 0.06, 79.0, 4.1),
)


def open_shops(conn, now: datetime | None = None) -> None:
    """Three shops east of ``HOME`` changing oil, open every day 07:00-19:00 (Berlin), with
    two-hour slots for two weeks from ``now``."""
    upsert_shops(
        conn=conn,
        records=[
            ShopRecord.model_validate(
                {
                    "ref": name,
                    "name": name,
                    "address": f"Hauptstraße {i + 1}",
                    "city": "München",
                    "phone": f"+49 89 1234 56{i}",
                    "timezone": "Europe/Berlin",
                    "lat": HOME[0],
                    "lon": HOME[1] + east,
                    "capabilities": ["oil_change", "brake_pads", "diagnostics"],
                    "hours": WEEK,
                    "prices": {"OIL-CHG": price},
                    "currency": "EUR",
                    "rating": rating,
                    "rating_count": 40 + 10 * i,
                }
            )
            for i, (name, east, price, rating) in enumerate(SHOPS)
        ],
    )
    open_slots(conn=conn, start=now or datetime.now(UTC), days=14, slot_h=2)


def proposed_order(
    conn, owner: Person, *, vin: str, mode: str = "auto", now: datetime | None = None
) -> int:
    """An owner's car at ``HOME`` whose oil life is 8 % (an open alert), and its order
    proposed to the shops and waiting for the owner's confirmation; the order's id."""
    now = now or datetime.now(UTC)
    vehicle_id = make_car(conn, owner, vin=vin, now=now)
    conn.execute(
        "UPDATE vehicles SET home_lat = %s, home_lon = %s WHERE vehicle_id = %s",
        (*HOME, vehicle_id),
    )
    prediction = factories.prediction(
        conn, vehicle_id, value=8.0, remaining_km=344.0, time=now, evidence={"oil_life_pct": 8.0}
    )
    alert = factories.alert(
        conn,
        vehicle_id,
        message="Oil life 8 %, about 344 km left",
        tier="change_soon",
        prediction_id=prediction.prediction_id,
        evidence={},
    )
    order_id = create_order_for_alert(conn=conn, alert_id=alert.alert_id, now=now)
    assert order_id is not None
    policy = PlacementPolicy(mode=mode)  # type: ignore[arg-type]
    ranked = placement.propose(
        conn=conn, order_id=order_id, now=now, policy=policy, consent="propose"
    )
    assert ranked, "no shop was matched"
    return order_id


def booked_order(conn, owner: Person, *, vin: str, now: datetime | None = None) -> int:
    """An order confirmed and booked at the best shop's earliest slot."""
    now = now or datetime.now(UTC)
    order_id = proposed_order(conn, owner, vin=vin, now=now)
    placement.owner_confirm(conn=conn, order_id=order_id, now=now, policy=PlacementPolicy())
    placement.schedule(conn=conn, order_id=order_id, now=now, actor="owner")
    return order_id


def completed_order(conn, owner: Person, *, vin: str, days_ago: float = 2.0) -> int:
    """An order whose visit ended ``days_ago`` (so its survey is open), with the shop's report:
    oil changed, pads measured."""
    then = datetime.now(UTC) - timedelta(days=days_ago)
    open_shops(conn, then)
    order_id = booked_order(conn, owner, vin=vin, now=then)
    feedback.check_in(conn=conn, order_id=order_id, now=then, actor="shop")
    feedback.start_service(conn=conn, order_id=order_id, now=then, actor="shop")
    report = feedback.WorkReport(
        work_done="Oil and filter changed, pads measured",
        parts=[{"part": "engine oil 5W-30", "quantity": 4.5, "unit": "l"}],
        cost="89.00",  # type: ignore[arg-type]  # pydantic parses it
        currency="EUR",
        odometer_km=48300.0,
        oil_changed=True,
        pad_front_mm=7.5,
        pad_rear_mm=8.5,
    )
    feedback.complete(conn=conn, order_id=order_id, now=then, report=report, actor="shop")
    return order_id


def accept_offer(conn, order_id: int, now: datetime | None = None) -> None:
    """The shop the order was offered to accepts it."""
    offer_id = conn.execute(
        "SELECT offer_id FROM service_offers WHERE order_id = %s AND response IS NULL",
        (order_id,),
    ).fetchone()[0]
    offers.respond(
        conn=conn,
        offer_id=offer_id,
        accept=True,
        now=now or datetime.now(UTC),
        policy=PlacementPolicy(),
    )


def status_of(conn, order_id: int) -> str:
    """The order's status in the database."""
    return conn.execute(
        "SELECT status FROM service_orders WHERE order_id = %s", (order_id,)
    ).fetchone()[0]
