# SPDX-License-Identifier: MIT
"""A fleet with vehicles in every state, and its manager, for the fleet dashboard's tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from factories import alert, fleet, prediction, trouble_codes, user, vehicle, vehicle_state
from web_helpers import PASSWORD

# A fleet car's pace: 45 km a day, 43 km per percent of oil life.
KM_PER_DAY = 45.0
KM_PER_PCT = 43.0


@dataclass(frozen=True)
class FleetCar:
    """A vehicle of the fleet."""

    vehicle_id: int
    vin: str


def manager(conn, fleet_id: int):
    """A fleet manager of ``fleet_id`` with a password."""
    return user(conn, "fleet_manager", password=PASSWORD, fleet_id=fleet_id)


def new_fleet(conn, name: str = "Becker Logistics") -> int:
    """A new, empty fleet's id."""
    return fleet(conn, name=name).fleet_id


def oil_projection(oil_pct: float, now: datetime) -> dict:
    """The oil model's projection to each tier at the fleet's pace."""
    steps = {}
    for tier, level in (("change_soon", 15.0), ("due_now", 5.0), ("overdue", 0.0)):
        km = max(0.0, (oil_pct - level) * KM_PER_PCT)
        steps[tier] = {
            "threshold": level,
            "km": round(km, 1),
            "date": (now + timedelta(days=km / KM_PER_DAY)).isoformat(),
            "reached": oil_pct <= level,
        }
    return steps


def fleet_car(
    conn,
    fleet_id: int,
    *,
    vin: str,
    make: str | None = "Ford",
    model: str | None = "Transit",
    oil_pct: float | None = 60.0,
    pad_mm: float | None = 9.0,
    codes: tuple[str, ...] = (),
    urgency: str = "high",
    seen: timedelta | None = timedelta(minutes=5),
    odometer_km: float = 48213.4,
    now: datetime | None = None,
    home: tuple[float, float] | None = None,
) -> FleetCar:
    """A car of the fleet with its newest oil and pad predictions, trouble codes (one
    open alert of ``urgency``) and when it was last seen (None: never)."""
    now = now or datetime.now(UTC)
    made = vehicle(conn, vin=vin, make=make, model=model, fleet_id=fleet_id, home=home)
    if seen is not None:
        vehicle_state(conn, made.vehicle_id, last_seen=now - seen, odometer_km=odometer_km)
    if oil_pct is not None:
        prediction(
            conn,
            made.vehicle_id,
            model="oil_life",
            value=oil_pct,
            time=now - timedelta(minutes=10),
            remaining_km=round(oil_pct * KM_PER_PCT, 1),
            evidence={"projection": oil_projection(oil_pct, now)},
        )
    if pad_mm is not None:
        prediction(
            conn,
            made.vehicle_id,
            model="brake_pads",
            value=pad_mm,
            time=now - timedelta(minutes=10),
            remaining_km=round((pad_mm - 3.0) * 5000.0, 1),
            evidence={"pad_front_mm": pad_mm, "pad_rear_mm": pad_mm + 2.0},
        )
    if codes:
        trouble_codes(conn, made.vehicle_id, stored=codes)
        # One open alert per urgency (as the evaluator keeps them), naming its codes.
        alert(
            conn,
            made.vehicle_id,
            kind="trouble_code",
            message=f"{', '.join(codes)}: test fault",
            tier=urgency,
            evidence={},
        )
    return FleetCar(made.vehicle_id, made.vin)


def fleet_order(
    conn, fleet_id: int, *, vin: str, now: datetime | None = None, mode: str = "auto"
) -> int:
    """A van of the fleet at the web tests' ``HOME`` whose oil life is 8 % (an open alert),
    and its order proposed to the shops there (``open_shops``: the best asks 89 EUR) in
    dispatch ``mode``; its id."""
    from web_order_helpers import HOME

    from orders import placement
    from orders.policy import PlacementPolicy
    from orders.service import create_order_for_alert

    now = now or datetime.now(UTC)
    made = vehicle(conn, vin=vin, make="Ford", model="Transit", fleet_id=fleet_id, home=HOME)
    vehicle_state(conn, made.vehicle_id, last_seen=now - timedelta(minutes=5), odometer_km=48213.4)
    made_prediction = prediction(
        conn,
        made.vehicle_id,
        value=8.0,
        remaining_km=344.0,
        time=now,
        evidence={"oil_life_pct": 8.0},
    )
    made_alert = alert(
        conn,
        made.vehicle_id,
        message="Oil life 8 %, about 344 km left",
        tier="change_soon",
        prediction_id=made_prediction.prediction_id,
        evidence={},
    )
    order_id = create_order_for_alert(conn=conn, alert_id=made_alert.alert_id, now=now)
    assert order_id is not None
    ranked = placement.propose(
        conn=conn,
        order_id=order_id,
        now=now,
        policy=PlacementPolicy(mode=mode),  # type: ignore[arg-type]
    )
    assert ranked, "no shop was matched"
    return order_id


def waiting_order(conn, vin: str, *, mode: str = "auto") -> tuple[int, int]:
    """A fleet whose limit is 50 EUR and its order over it (89 EUR), waiting for the manager:
    booked at the best shop (``auto``), or offered to the shops (``broadcast``); the fleet's
    and the order's ids. Every event so far is marked told and fanned out, so a round of the
    dispatchers handles only what comes next."""
    from decimal import Decimal

    from web_order_helpers import open_shops

    from orders import approval, placement
    from orders.policy import PlacementPolicy

    now = datetime.now(UTC)
    open_shops(conn, now)
    fleet_id = fleet(conn).fleet_id
    approval.set_policy(
        conn, fleet_id=fleet_id, limit_amount=Decimal(50), currency="EUR", actor="t", now=now
    )
    order_id = fleet_order(conn, fleet_id, vin=vin, mode=mode, now=now)
    placement.owner_confirm(conn=conn, order_id=order_id, now=now, policy=PlacementPolicy())
    if mode == "auto":
        placement.schedule(conn=conn, order_id=order_id, now=now, actor="fleet")
    conn.execute("UPDATE outbox SET notified_at = now(), fanned_out_at = now()")
    return fleet_id, order_id
