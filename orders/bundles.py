# SPDX-License-Identifier: MIT
"""Jobs due for one car within a window become one visit.

A new order joins the visit of another open order of the same vehicle due within
``BUNDLE_WINDOW`` (the lead): it takes the lead's status, shop and appointment, and follows
the lead through every transition (``lifecycle.transition``). The lead may be at any step
before the car arrives:

- still ``proposed``: its ranking was made for its own jobs, so it is cleared and the next
  ``propose`` matches the whole bundle to shops that can do every job;
- ``offered``: it joins when every shop with a pending offer can do the new job;
- ``accepted`` or ``scheduled``: it joins when the lead's shop can do the new job (same shop,
  same slot). A shop that cannot do it leaves the new order to be matched by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from db.rows import a_dict, dicts, scalars

# Open orders of one vehicle due within this long of each other become one visit.
BUNDLE_WINDOW = timedelta(days=7)
JOINABLE = ("proposed", "offered", "accepted", "scheduled")
# What a joining order copies of its lead: its shop, slot, timers and appointment, its mode
# of placement and the owner's consent.
COPIED = (
    "shop_id",
    "slot_id",
    "service_due_at",
    "confirm_due_at",
    "appointment_starts_at",
    "appointment_ends_at",
    "appointment_bay",
    "dispatch_mode",
    "consent",
)


@dataclass(frozen=True)
class Lead:
    """The order whose visit a new order joins, and what the new order copies of it."""

    order_id: int
    status: str
    shop_id: int | None
    fields: dict[str, Any]

    def note(self, shop_name: str | None) -> str:
        """The joining order's first event."""
        at = self.fields.get("appointment_starts_at")
        where = f" at {shop_name}" if shop_name and self.status in ("accepted", "scheduled") else ""
        when = f" on {at.isoformat()}" if at else ""
        return f"joins the visit of order {self.order_id}{where}{when}"


def _capable(conn: psycopg.Connection, shop_ids: list[int], capability: str) -> bool:
    row = a_dict(
        conn,
        "SELECT count(*) FILTER (WHERE %s = ANY(capabilities)) AS capable, count(*) AS shops "
        "FROM shops WHERE shop_id = ANY(%s)",
        (capability, shop_ids),
    )
    assert row is not None
    return bool(row["shops"]) and row["capable"] == row["shops"]


def find_lead(
    conn: psycopg.Connection, *, vehicle_id: int, component: str, due: datetime, capability: str
) -> Lead | None:
    """The open lead order of another component of this vehicle due within the bundling
    window whose visit a job needing ``capability`` can join, if any."""
    rows = dicts(
        conn,
        "SELECT order_id, status, shop_id, slot_id, service_due_at, confirm_due_at, "
        "appointment_starts_at, appointment_ends_at, appointment_bay, dispatch_mode, consent "
        "FROM service_orders WHERE vehicle_id = %s AND component <> %s AND bundle_id IS NULL "
        "AND status = ANY(%s) AND due_by BETWEEN %s AND %s ORDER BY due_by, order_id "
        "FOR UPDATE",
        (vehicle_id, component, list(JOINABLE), due - BUNDLE_WINDOW, due + BUNDLE_WINDOW),
    )
    for row in rows:
        order_id, status, shop_id = row["order_id"], row["status"], row["shop_id"]
        if status == "offered":
            pending = scalars(
                conn,
                "SELECT shop_id FROM service_offers WHERE order_id = %s AND response IS NULL",
                (order_id,),
            )
            if not _capable(conn, [int(s) for s in pending], capability):
                continue
        elif status in ("accepted", "scheduled") and (
            shop_id is None or not _capable(conn, [int(shop_id)], capability)
        ):
            continue
        return Lead(int(order_id), str(status), shop_id, {k: row[k] for k in COPIED})
    return None


def rematch(conn: psycopg.Connection, lead: Lead, now: datetime) -> None:
    """A proposed lead was ranked for its own jobs: clear its ranking so the next ``propose``
    matches the whole visit (the owner has not confirmed anything yet)."""
    if lead.status == "proposed":
        conn.execute(
            "UPDATE service_orders SET match = NULL, estimate = NULL, updated_at = %s "
            "WHERE order_id = %s AND status = 'proposed'",
            (now, lead.order_id),
        )
