# SPDX-License-Identifier: MIT
"""The lifecycle of a service order, a state machine enforced by one conditional UPDATE.

::

    proposed ─▶ offered ─▶ accepted ─▶ scheduled ─▶ checked_in ─▶ in_service ─▶ completed
       │  └────────────────▲ (auto-assign)
       └─▶ declined (no shop took it), cancelled (owner or operator), expired (too late)

Every transition is recorded in ``service_order_events`` with who, when and why; a step the
current status does not allow raises ``IllegalTransition``. Orders bundled into one visit
(``bundle_id`` pointing at the lead order) follow their lead through every transition.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from db.rows import a_dict, dicts, scalars
from orders.errors import IllegalTransition, OrderNotFound

OPEN = ("proposed", "offered", "accepted", "scheduled", "checked_in", "in_service")
TERMINAL = ("completed", "declined", "cancelled", "expired")

# The steps at which a shop holds the order. Before that the order's shop is only the best
# ranked one (offers may go to several), so an event names a shop only from acceptance on:
# the timeline never names a shop the order did not go to.
HELD = ("accepted", "scheduled", "checked_in", "in_service", "completed")

# Where each status may be reached from.
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "offered": ("proposed", "offered"),
    "accepted": ("proposed", "offered"),
    "scheduled": ("accepted",),
    "checked_in": ("scheduled",),
    "in_service": ("checked_in",),
    "completed": ("in_service",),
    "declined": ("proposed", "offered", "accepted"),
    "cancelled": ("proposed", "offered", "accepted", "scheduled", "checked_in"),
    "expired": ("proposed", "offered", "accepted", "scheduled"),
}


def record_event(
    conn: psycopg.Connection,
    *,
    order_id: int,
    status: str,
    actor: str,
    reason: str | None,
    at: datetime,
    kind: str = "transition",
    from_status: str | None = None,
    shop_id: int | None = None,
) -> None:
    """Append one event to an order's history."""
    conn.execute(
        "INSERT INTO service_order_events (order_id, status, from_status, kind, actor, note, "
        "at, shop_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (order_id, status, from_status, kind, actor, reason, at, shop_id),
    )


def transition(
    conn: psycopg.Connection,
    *,
    order_id: int,
    to: str,
    actor: str,
    reason: str,
    now: datetime,
    set_fields: dict[str, Any] | None = None,
) -> str:
    """Move an order (and the orders bundled with it) to ``to``; return the status it left.

    ``set_fields`` are further columns written in the same UPDATE (shop, slot, deadlines).
    """
    if to not in ALLOWED_FROM:
        raise ValueError(f"unknown status {to!r}")
    fields = dict(set_fields or {})
    # Each further column as ", column = %(column)s": its value travels as a parameter.
    assignments = sql.SQL("").join(
        sql.SQL(", {} = {}").format(sql.Identifier(col), sql.Placeholder(col)) for col in fields
    )
    params = {"order_id": order_id, "to": to, "now": now, "allowed": list(ALLOWED_FROM[to])}
    with conn.transaction():
        row = a_dict(
            conn,
            sql.SQL(
                "WITH prev AS (SELECT order_id, status FROM service_orders "
                "  WHERE order_id = %(order_id)s FOR UPDATE) "
                "UPDATE service_orders o SET status = %(to)s, updated_at = %(now)s{} "
                "FROM prev WHERE o.order_id = prev.order_id AND prev.status = ANY(%(allowed)s) "
                "RETURNING prev.status AS previous, o.shop_id"
            ).format(assignments),
            params | fields,
        )
        if row is None:
            current = a_dict(
                conn, "SELECT status FROM service_orders WHERE order_id = %s", (order_id,)
            )
            if current is None:
                raise OrderNotFound(order_id)
            raise IllegalTransition(order_id, current["status"], to)
        previous, shop_id = row["previous"], row["shop_id"]
        if to not in HELD and previous not in HELD:
            shop_id = None
        record_event(
            conn,
            order_id=order_id,
            status=to,
            actor=actor,
            reason=reason,
            at=now,
            from_status=previous,
            shop_id=shop_id,
        )
        members = scalars(
            conn,
            sql.SQL(
                "UPDATE service_orders SET status = %(to)s, updated_at = %(now)s{} "
                "WHERE bundle_id = %(order_id)s AND status = %(previous)s RETURNING order_id"
            ).format(assignments),
            params | fields | {"previous": previous},
        )
        for member in members:
            record_event(
                conn,
                order_id=int(member),
                status=to,
                actor=actor,
                reason=f"{reason} (bundled with order {order_id})",
                at=now,
                from_status=previous,
                shop_id=shop_id,
            )
    return str(previous)


def history(conn: psycopg.Connection, order_id: int) -> list[tuple[Any, ...]]:
    """(at, kind, from_status, status, actor, note) of an order's events, oldest first."""
    events = dicts(
        conn,
        "SELECT at, kind, from_status, status, actor, note FROM service_order_events "
        "WHERE order_id = %s ORDER BY at, id",
        (order_id,),
    )
    return [
        (e["at"], e["kind"], e["from_status"], e["status"], e["actor"], e["note"]) for e in events
    ]
