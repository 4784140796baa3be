# SPDX-License-Identifier: MIT
"""After an order ended without the work: book the alert again, or dismiss it with a reason.

An order that was cancelled, that no shop took (declined) or that expired leaves its alert
open. The owner's side then either rebooks (a new order for the same alert, matched afresh)
or dismisses the alert, saying why; dismissing also cancels the alert's open order. Each step
is recorded on the orders concerned, so the owner's timeline says what happened.
"""

from __future__ import annotations

from datetime import datetime

import psycopg

from db.rows import a_dict, dicts, scalar, scalars
from orders.errors import AlertNotFound, NotRebookable, OrderNotFound
from orders.lifecycle import OPEN, record_event
from orders.placement import cancel
from orders.service import ENDED, create_order_for_alert


def rebook(*, conn: psycopg.Connection, order_id: int, now: datetime, actor: str) -> int:
    """A new order for the still-open alert of an order that ended (cancelled, declined,
    expired); the new order's id. NotRebookable when the order still stands or was
    completed, or its alert is resolved."""
    with conn.transaction():
        row = a_dict(
            conn,
            "SELECT o.status, o.alert_id, a.status AS alert_status FROM service_orders o "
            "LEFT JOIN alerts a USING (alert_id) WHERE o.order_id = %s FOR UPDATE OF o",
            (order_id,),
        )
        if row is None:
            raise OrderNotFound(order_id)
        status, alert_id, alert_status = row["status"], row["alert_id"], row["alert_status"]
        if status not in ENDED:
            raise NotRebookable(
                f"order {order_id} is {status}: only a cancelled, declined or expired order "
                "can be booked again"
            )
        if alert_id is None or alert_status == "resolved":
            raise NotRebookable(
                f"order {order_id}: its alert is resolved, there is nothing left to book"
            )
        new = create_order_for_alert(conn=conn, alert_id=int(alert_id), now=now)
        if new is None:  # the alert was resolved between the two reads
            raise NotRebookable(f"order {order_id}: its alert is resolved")
        record_event(
            conn,
            order_id=order_id,
            status=status,
            actor=actor,
            at=now,
            kind="rebook",
            reason=f"booked again as order {new}",
        )
        return new


def dismiss_alert(
    *, conn: psycopg.Connection, alert_id: int, now: datetime, actor: str, reason: str
) -> list[int]:
    """Resolve an alert without a service, with the owner's side's reason, and cancel its
    open order; the ids of the orders cancelled. NotRebookable when the alert is resolved
    already or its car is in the workshop."""
    if not reason.strip():
        raise ValueError("a dismissal needs a reason")
    with conn.transaction():
        alert_status = scalar(
            conn, "SELECT status FROM alerts WHERE alert_id = %s FOR UPDATE", (alert_id,)
        )
        if alert_status is None:
            raise AlertNotFound(f"no alert {alert_id}")
        if alert_status == "resolved":
            raise NotRebookable(f"alert {alert_id} is resolved already")
        open_orders = [
            int(o)
            for o in scalars(
                conn,
                "SELECT order_id FROM service_orders WHERE alert_id = %s AND status = ANY(%s) "
                "AND bundle_id IS NULL ORDER BY order_id",
                (alert_id, list(OPEN)),
            )
        ]
        for order_id in open_orders:
            # The car on the lift cannot be cancelled (IllegalTransition from in_service).
            cancel(
                conn=conn,
                order_id=order_id,
                now=now,
                actor=actor,
                reason=f"alert dismissed: {reason}",
            )
        # A job bundled into another order's visit leaves that visit; the visit goes on.
        members = dicts(
            conn,
            "SELECT order_id, status FROM service_orders WHERE alert_id = %s AND status = ANY(%s)",
            (alert_id, list(OPEN)),
        )
        member_ids = [int(m["order_id"]) for m in members]
        conn.execute(
            "UPDATE service_orders SET status = 'cancelled', bundle_id = NULL, slot_id = NULL, "
            "appointment_starts_at = NULL, appointment_ends_at = NULL, appointment_bay = NULL, "
            "updated_at = %s WHERE order_id = ANY(%s)",
            (now, member_ids),
        )
        for member in members:
            record_event(
                conn,
                order_id=int(member["order_id"]),
                status="cancelled",
                from_status=member["status"],
                actor=actor,
                at=now,
                reason=f"alert dismissed: {reason}",
            )
        conn.execute(
            "UPDATE alerts SET status = 'resolved', resolved_at = %s, dismissed_at = %s, "
            "dismissed_by = %s, dismissed_reason = %s WHERE alert_id = %s",
            (now, now, actor, reason, alert_id),
        )
        for order_id in open_orders + member_ids:
            record_event(
                conn,
                order_id=order_id,
                status="cancelled",
                actor=actor,
                at=now,
                kind="dismissal",
                reason=f"alert {alert_id} dismissed: {reason}",
            )
        return open_orders + member_ids
