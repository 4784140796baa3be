# SPDX-License-Identifier: MIT
"""How orders are placed with shops (``PlacementPolicy``), and the order as placement reads
it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import psycopg

from db.rows import record, scalars
from orders.errors import OrderNotFound
from orders.scoring import MatchWeights

Mode = Literal["auto", "sequential", "broadcast"]
Consent = Literal["auto_book", "propose"]
# The shortest booking window offered, even for a job already due.
MIN_WINDOW = timedelta(days=1)


@dataclass(frozen=True)
class PlacementPolicy:
    """How orders are placed with shops; the defaults are the platform's."""

    mode: Mode = "sequential"
    k: int = 3  # shops per broadcast wave
    max_offers: int = 6  # shops asked before the order is declined
    shop_response: timedelta = timedelta(minutes=5)
    appointment_confirmation: timedelta = timedelta(hours=24)
    radius_km: float = 50.0
    candidates: int = 10
    # When no shop has a slot before the due date, look this far ahead instead.
    fallback_window: timedelta = timedelta(days=14)
    # Waiting states move on by themselves (sla.check_timers): the owner is reminded of a
    # proposal this long after it was made, an order nobody could match is escalated after
    # this long, and a visit the car did not come to expires this long after its slot.
    owner_reminder: timedelta = timedelta(days=2)
    unmatched_escalation: timedelta = timedelta(days=1)
    no_show_grace: timedelta = timedelta(days=1)
    # An order waiting for its fleet's approval is released (expires) this long after it
    # began to wait, or this long before its appointment, whichever comes first; the manager
    # is reminded after ``approval_reminder``, or halfway to the release if that is sooner.
    approval_max_wait: timedelta = timedelta(days=3)
    approval_lead: timedelta = timedelta(hours=2)
    approval_reminder: timedelta = timedelta(days=1)
    weights: MatchWeights = field(default_factory=MatchWeights)


@dataclass(frozen=True)
class Offer:
    """An order offered to a shop."""

    offer_id: int
    order_id: int
    shop_id: int
    expires_at: datetime


@dataclass(frozen=True)
class PlacementOrder:
    """What placement reads of an order and its vehicle."""

    order_id: int
    status: str
    vehicle_id: int
    due_by: datetime | None
    stored_match: dict[str, Any] | None
    dispatch_mode: str | None
    home_lat: float | None
    home_lon: float | None
    fuel_type: str
    bundle_id: int | None
    shop_id: int | None
    consent: str

    @property
    def match(self) -> dict[str, Any]:
        """The stored ranking and request, empty before ``propose``."""
        return self.stored_match or {}


def load_order(conn: psycopg.Connection, order_id: int) -> PlacementOrder:
    """The order as placement reads it; OrderNotFound if there is none."""
    order = record(
        conn,
        PlacementOrder,
        "SELECT o.order_id, o.status, o.vehicle_id, o.due_by, o.match AS stored_match, "
        "o.dispatch_mode, v.home_lat, v.home_lon, v.fuel_type, o.bundle_id, o.shop_id, "
        "o.consent FROM service_orders o JOIN vehicles v USING (vehicle_id) "
        "WHERE o.order_id = %s",
        (order_id,),
    )
    if order is None:
        raise OrderNotFound(order_id)
    return order


def bundle_jobs(conn: psycopg.Connection, order_id: int) -> list[str]:
    """Job codes of an order and the orders bundled with it."""
    return scalars(
        conn,
        "SELECT job_code FROM service_orders WHERE order_id = %s OR bundle_id = %s "
        "ORDER BY order_id",
        (order_id, order_id),
    )


def window_end(order: PlacementOrder, now: datetime) -> datetime:
    """The end of the booking window the shop was matched in (past the due date when nobody
    had a slot before it)."""
    window = (order.match.get("request") or {}).get("before")
    return max(datetime.fromisoformat(window) if window else order.due_by or now, now + MIN_WINDOW)
