# SPDX-License-Identifier: MIT
"""The shop's side for the web tests: an order offered to the best shop, and its staff."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from web_helpers import PASSWORD, Person
from web_order_helpers import proposed_order

from api.auth.users import create_user
from orders import placement
from orders.policy import PlacementPolicy


def offered_order(conn, owner: Person, *, vin: str, now: datetime | None = None) -> int:
    """An owner's order confirmed and offered to the best shop alone (sequential)."""
    now = now or datetime.now(UTC)
    order_id = proposed_order(conn, owner, vin=vin, mode="sequential", now=now)
    placement.owner_confirm(
        conn=conn, order_id=order_id, now=now, policy=PlacementPolicy(mode="sequential")
    )
    return order_id


def pending_offer(conn, order_id: int) -> tuple[int, int]:
    """The order's offer waiting for an answer: its id and its shop's."""
    row = conn.execute(
        "SELECT offer_id, shop_id FROM service_offers WHERE order_id = %s AND response IS NULL",
        (order_id,),
    ).fetchone()
    assert row is not None, "no pending offer"
    return int(row[0]), int(row[1])


def shop_staff(conn, shop_id: int, name: str = "staff") -> Person:
    """A member of the shop's staff with a password."""
    email = f"{name}-{time.monotonic_ns()}@shop.example.test"
    user_id = create_user(
        conn=conn, email=email, role="shop_staff", password=PASSWORD, shop_id=shop_id
    )
    return Person(user_id, email)


def shop_of(conn, order_id: int) -> int:
    """The shop an order went to."""
    row = conn.execute(
        "SELECT shop_id FROM service_orders WHERE order_id = %s", (order_id,)
    ).fetchone()
    return int(row[0])


def slot_of(conn, order_id: int) -> tuple[int, datetime]:
    """The slot an order holds: its id and start."""
    row = conn.execute(
        "SELECT slot_id, appointment_starts_at FROM service_orders WHERE order_id = %s",
        (order_id,),
    ).fetchone()
    return int(row[0]), row[1]


def week_of(when: datetime, zone: str = "Europe/Berlin") -> str:
    """The Monday (ISO date) of the shop's week holding ``when``."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    day = when.astimezone(ZoneInfo(zone)).date()
    return (day - timedelta(days=day.weekday())).isoformat()
