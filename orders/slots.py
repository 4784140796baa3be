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


# A free slot no longer within the shop's bays or opening hours (local time, one day's span).
DROP_UNFIT = """
DELETE FROM shop_slots sl USING shops s
WHERE sl.shop_id = s.shop_id AND s.shop_id = %(shop_id)s AND sl.order_id IS NULL
  AND sl.starts_at >= %(start)s AND sl.starts_at < %(end)s
  AND (sl.bay > s.bays OR NOT EXISTS (
      SELECT 1 FROM jsonb_array_elements(
          s.hours -> to_char(sl.starts_at AT TIME ZONE s.timezone, 'dy')) AS span(v)
      WHERE (sl.starts_at AT TIME ZONE s.timezone)::time >= (span.v ->> 0)::time
        AND (sl.ends_at AT TIME ZONE s.timezone)::time <= (span.v ->> 1)::time
        AND (sl.ends_at AT TIME ZONE s.timezone)::date
            = (sl.starts_at AT TIME ZONE s.timezone)::date))
"""


def slot_hours(*, conn: psycopg.Connection, shop_id: int) -> int:
    """The length of the shop's slots in hours (its newest slot's; 2 for a shop without)."""
    found = scalar(
        conn,
        "SELECT round(extract(epoch FROM ends_at - starts_at) / 3600)::int FROM shop_slots "
        "WHERE shop_id = %s ORDER BY starts_at DESC LIMIT 1",
        (shop_id,),
    )
    return int(found) if found else 2


def fit_slots(*, conn: psycopg.Connection, shop_id: int, start: datetime, end: datetime) -> None:
    """Fit a shop's free slots between ``start`` and ``end`` to its hours and bays as they are
    now: free slots outside them go, missing ones are made; booked slots stay."""
    conn.execute(DROP_UNFIT, {"shop_id": shop_id, "start": start, "end": end})
    days = max(1, (end - start).days)
    open_slots(
        conn=conn,
        start=start,
        days=days,
        slot_h=slot_hours(conn=conn, shop_id=shop_id),
        shop_ids=[shop_id],
    )
