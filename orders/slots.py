# SPDX-License-Identifier: MIT
"""Bookable slots: made from each shop's opening hours, booked atomically.

Opening hours are local to the shop (``shops.timezone``); slots are stored in UTC. A slot is
one bay for ``slot_h`` hours; it is free while ``order_id`` is NULL. Booking is one UPDATE that
takes a free slot with ``FOR UPDATE SKIP LOCKED``, so two bookings never get the same slot and
never wait on each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from db.rows import record, scalar

# Day names as PostgreSQL's to_char(..., 'dy') spells them, the keys of ``shops.hours``.
OPEN_SLOTS = """
INSERT INTO shop_slots (shop_id, bay, starts_at, ends_at)
SELECT s.shop_id, b.bay, t.local AT TIME ZONE s.timezone,
       (t.local + make_interval(hours => %(slot_h)s)) AT TIME ZONE s.timezone
FROM shops s
CROSS JOIN generate_series(0, %(days)s - 1) AS d(n)
CROSS JOIN LATERAL (
    SELECT date_trunc('day', %(start)s::timestamptz AT TIME ZONE s.timezone)
           + d.n * INTERVAL '1 day' AS day) AS dd
CROSS JOIN LATERAL jsonb_array_elements(s.hours -> to_char(dd.day, 'dy')) AS span(v)
CROSS JOIN LATERAL generate_series(
    dd.day + (span.v ->> 0)::time,
    dd.day + (span.v ->> 1)::time - make_interval(hours => %(slot_h)s),
    make_interval(hours => %(slot_h)s)) AS t(local)
CROSS JOIN LATERAL generate_series(1, s.bays) AS b(bay)
WHERE (%(shop_ids)s::bigint[] IS NULL OR s.shop_id = ANY(%(shop_ids)s))
  AND t.local AT TIME ZONE s.timezone >= %(start)s
ON CONFLICT (shop_id, bay, starts_at) DO NOTHING
"""


@dataclass(frozen=True)
class Slot:
    """A booked slot."""

    slot_id: int
    shop_id: int
    starts_at: datetime
    ends_at: datetime
    bay: int = 1


def open_slots(
    *,
    conn: psycopg.Connection,
    start: datetime,
    days: int,
    slot_h: int = 2,
    shop_ids: list[int] | None = None,
) -> int:
    """Make the slots of ``days`` days from ``start`` out of opening hours (idempotent); the
    number of new slots."""
    cur = conn.execute(
        OPEN_SLOTS, {"start": start, "days": days, "slot_h": slot_h, "shop_ids": shop_ids}
    )
    return cur.rowcount


def book_slot(
    *,
    conn: psycopg.Connection,
    shop_id: int,
    order_id: int,
    after: datetime,
    before: datetime,
    slot_id: int | None = None,
) -> Slot | None:
    """Book the earliest free slot of a shop starting after ``after`` and ending by
    ``before`` for an order (or that one slot, if it qualifies); None when there is none."""
    return record(
        conn,
        Slot,
        "UPDATE shop_slots SET order_id = %(order_id)s WHERE slot_id = ("
        "  SELECT slot_id FROM shop_slots WHERE shop_id = %(shop_id)s AND order_id IS NULL "
        "  AND starts_at >= %(after)s AND ends_at <= %(before)s "
        "  AND (%(slot_id)s::bigint IS NULL OR slot_id = %(slot_id)s) "
        "  ORDER BY starts_at, bay LIMIT 1 FOR UPDATE SKIP LOCKED) "
        "RETURNING slot_id, shop_id, starts_at, ends_at, bay",
        {
            "order_id": order_id,
            "shop_id": shop_id,
            "after": after,
            "before": before,
            "slot_id": slot_id,
        },
    )


def release_slot(*, conn: psycopg.Connection, order_id: int) -> None:
    """Free the slot an order holds, if any."""
    conn.execute("UPDATE shop_slots SET order_id = NULL WHERE order_id = %s", (order_id,))


# Making slots around the booked ones that stay: a new slot may not overlap one of its bay's
# (slots are one bay for a few hours; after a change of hours the grid may shift).
OPEN_SLOTS_AROUND_BOOKED = OPEN_SLOTS.replace(
    "ON CONFLICT",
    "AND NOT EXISTS (SELECT 1 FROM shop_slots o WHERE o.shop_id = s.shop_id AND o.bay = b.bay "
    "AND o.starts_at > (t.local AT TIME ZONE s.timezone) - INTERVAL '1 day' "
    "AND o.starts_at < (t.local + make_interval(hours => %(slot_h)s)) AT TIME ZONE s.timezone "
    "AND o.ends_at > t.local AT TIME ZONE s.timezone)\nON CONFLICT",
)


def slot_hours(*, conn: psycopg.Connection, shop_id: int) -> int:
    """The length of the shop's slots in hours (its newest slot's; 2 for a shop without)."""
    found = scalar(
        conn,
        "SELECT round(extract(epoch FROM ends_at - starts_at) / 3600)::int FROM shop_slots "
        "WHERE shop_id = %s ORDER BY starts_at DESC LIMIT 1",
        (shop_id,),
    )
    return int(found) if found else 2


def fit_slots(*, conn: psycopg.Connection, shop_id: int, start: datetime, days: int) -> int:
    """Make a shop's free slots from ``start`` anew from its hours and bays as they are now,
    over ``days`` days or as far as it had slots: its free slots go, new ones are made around
    the booked ones, which stay (so no visit is lost). The number of free slots made."""
    slot_h = slot_hours(conn=conn, shop_id=shop_id)
    last = scalar(conn, "SELECT max(ends_at) FROM shop_slots WHERE shop_id = %s", (shop_id,))
    if isinstance(last, datetime) and last > start:
        days = max(days, (last - start).days + 1)
    conn.execute(
        "DELETE FROM shop_slots WHERE shop_id = %s AND order_id IS NULL AND starts_at >= %s",
        (shop_id, start),
    )
    cur = conn.execute(
        OPEN_SLOTS_AROUND_BOOKED,
        {"start": start, "days": days, "slot_h": slot_h, "shop_ids": [shop_id]},
    )
    return cur.rowcount
