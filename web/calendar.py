# SPDX-License-Identifier: MIT
"""What the shop's calendar shows: one week by bay, in the shop's own time zone.

A week is Monday to Sunday where the shop is (``shops.timezone``); its days are the columns,
its bays the rows. Each bay's day lists its slots (``shop_slots``: made from the opening
hours, one bay for a few hours) in time order: a booking (the order holding the slot, linked
to its job card), a free slot (a place to move a booking to), or one gone by; the closed
time between two opening spans is a shaded line of its own, and a day without hours is shaded
whole. Only the caller's shop's slots are read, and a booking's order is shown only through
``api.access.orders``' rule for the caller (the same as ``GET /service-orders/{id}``).

Moving a booking is ``web.shop.move``: the inbox's own step, ``placement.reschedule`` under
``may_take``, whose ``reschedule`` event the outbox turns into ``order.rescheduled`` and the
notifications into a message to the owner. The slots a booking may move to are
``placement.free_slots``' (the order's booking window), as in the inbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql

from api import access
from api.auth.principal import Principal
from api.shops.service import shop as shop_profile
from db.rows import dicts
from orders import placement
from orders.directory import DAYS
from orders.slots import Slot
from web.orders import is_visible

MOVABLE = "scheduled"  # a visit whose time may still move (checked in: the car is here)
MOVE_SLOTS = 60  # free slots offered on the move page
EARLIEST, LATEST = date(1970, 1, 1), date(9000, 12, 31)  # weeks the address may ask for


class NotMovable(Exception):
    """An order the caller's shop may not move on its calendar: the API's 404."""


@dataclass(frozen=True)
class Booking:
    """The order holding a slot, as the calendar shows it."""

    order_id: int
    vin: str
    job_code: str
    job_description: str
    status: str

    @property
    def movable(self) -> bool:
        """Whether the visit may still move to another time."""
        return self.status == MOVABLE


@dataclass(frozen=True)
class Entry:
    """One line of a bay's day: a slot (free, booked or gone by) or closed time."""

    kind: str  # "free", "booked", "past" or "closed"
    starts: time
    ends: time
    slot_id: int | None = None
    booking: Booking | None = None


@dataclass(frozen=True)
class Day:
    """A day of the week with the shop's opening hours that day (local times)."""

    day: date
    spans: list[tuple[str, str]]
    today: bool

    @property
    def closed(self) -> bool:
        """The shop does not open that day."""
        return not self.spans


@dataclass(frozen=True)
class Week:
    """The shop's week by bay."""

    shop_name: str
    timezone: str
    monday: date
    days: list[Day]
    bays: list[int]
    cells: dict[tuple[int, date], list[Entry]] = field(default_factory=dict)
    bookings: int = 0
    free: int = 0

    @property
    def previous(self) -> date:
        """The Monday before."""
        return self.monday - timedelta(days=7)

    @property
    def next(self) -> date:
        """The Monday after."""
        return self.monday + timedelta(days=7)

    @property
    def sunday(self) -> date:
        """The week's last day."""
        return self.monday + timedelta(days=6)

    def cell(self, bay: int, day: date) -> list[Entry]:
        """The entries of one bay on one day, in time order."""
        return self.cells.get((bay, day), [])


def monday_of(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def _hhmm(text: str) -> time:
    return time.fromisoformat(text)


def _closed_gaps(spans: list[tuple[str, str]]) -> list[Entry]:
    """Closed time between a day's opening spans (a lunch break)."""
    ordered = sorted(spans)
    return [Entry("closed", _hhmm(a[1]), _hhmm(b[0])) for a, b in pairwise(ordered) if a[1] < b[0]]


def week(
    *, conn: psycopg.Connection, principal: Principal, now: datetime, monday: date | None = None
) -> Week:
    """The week from ``monday`` (default: this week where the shop is) of ``principal``'s shop."""
    assert principal.shop_id is not None
    profile = shop_profile(conn=conn, shop_id=principal.shop_id)
    zone = ZoneInfo(profile.timezone)
    today = now.astimezone(zone).date()
    monday = monday_of(monday or today)
    days = [
        Day(
            d,
            [(str(s[0]), str(s[1])) for s in profile.hours.get(DAYS[d.weekday()], [])],
            d == today,
        )
        for d in (monday + timedelta(days=i) for i in range(7))
    ]
    start = datetime.combine(monday, time(), zone)
    end = datetime.combine(monday + timedelta(days=7), time(), zone)
    where, params = access.orders(principal)
    rows = dicts(
        conn,
        sql.SQL(_SQL).format(pred=where),
        params | {"shop_id": principal.shop_id, "start": start, "end": end},
    )
    cells: dict[tuple[int, date], list[Entry]] = {}
    bookings = free = 0
    for row in rows:
        starts = row["starts_at"].astimezone(zone)
        ends = row["ends_at"].astimezone(zone)
        booking = None
        if row["order_id"] is not None and row["visible"]:
            booking = Booking(
                row["order_id"], row["vin"], row["job_code"], row["job_description"], row["status"]
            )
            kind = "booked"
            bookings += 1
        elif row["order_id"] is not None:
            kind = "booked"  # held by an order the caller may not open (never expected)
            bookings += 1
        elif row["starts_at"] <= now:
            kind = "past"
        else:
            kind = "free"
            free += 1
        entry = Entry(kind, starts.time(), ends.time(), row["slot_id"], booking)
        cells.setdefault((row["bay"], starts.date()), []).append(entry)
    # A booking made when the shop had more bays keeps its bay's row.
    bays = max([profile.bays, *(row["bay"] for row in rows)])
    for day in days:
        for bay in range(1, bays + 1):
            entries = cells.setdefault((bay, day.day), [])
            entries.extend(_closed_gaps(day.spans))
            entries.sort(key=lambda e: (e.starts, e.kind != "closed"))
    return Week(
        shop_name=profile.name,
        timezone=profile.timezone,
        monday=monday,
        days=days,
        bays=list(range(1, bays + 1)),
        cells=cells,
        bookings=bookings,
        free=free,
    )


_SQL = (
    "SELECT sl.slot_id, sl.bay, sl.starts_at, sl.ends_at, o.order_id, o.vin, o.job_code, "
    "o.job_description, o.status, COALESCE(({pred}), false) AS visible FROM shop_slots sl "
    "LEFT JOIN service_orders o ON o.order_id = sl.order_id "
    "WHERE sl.shop_id = %(shop_id)s AND sl.starts_at >= %(start)s "
    "AND sl.starts_at < %(end)s ORDER BY sl.starts_at, sl.bay"
)


@dataclass(frozen=True)
class Move:
    """A booking about to move: where it is, and the free slots it may move to."""

    booking: Booking
    starts_at: datetime
    ends_at: datetime
    bay: int
    timezone: str
    slots: list[Slot]


def movable(
    *, conn: psycopg.Connection, principal: Principal, order_id: int, now: datetime
) -> Move:
    """The booking ``order_id`` of the caller's shop and the free slots it may move to;
    ``NotMovable`` for an order that is not a booking of the shop (the API's 404)."""
    if principal.shop_id is None or not is_visible(conn, principal, order_id):
        raise NotMovable(order_id)
    found = dicts(
        conn,
        "SELECT o.order_id, o.vin, o.job_code, o.job_description, o.status, "
        "o.appointment_starts_at, o.appointment_ends_at, o.appointment_bay, s.timezone "
        "FROM service_orders o JOIN shops s USING (shop_id) "
        "WHERE o.order_id = %s AND o.shop_id = %s AND o.appointment_starts_at IS NOT NULL",
        (order_id, principal.shop_id),
    )
    if not found:
        raise NotMovable(order_id)
    row = found[0]
    booking = Booking(
        row["order_id"], row["vin"], row["job_code"], row["job_description"], row["status"]
    )
    slots = (
        placement.free_slots(conn=conn, order_id=order_id, now=now, limit=MOVE_SLOTS)
        if booking.movable
        else []
    )
    return Move(
        booking=booking,
        starts_at=row["appointment_starts_at"],
        ends_at=row["appointment_ends_at"],
        bay=row["appointment_bay"] or 1,
        timezone=row["timezone"],
        slots=list(slots),
    )


def parse_week(text: str | None) -> date | None:
    """A ``YYYY-MM-DD`` from the address, or None (this week) for none, nonsense or a day
    out of range."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    # The weeks before and after must exist too (year 1 and 9999 have none).
    return day if EARLIEST <= day <= LATEST else None
