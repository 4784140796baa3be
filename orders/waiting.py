# SPDX-License-Identifier: MIT
"""Orders waiting for a person, moved on by ``sla.check_timers``: reminders and expiries.

See the table in ``sla.py``. Each step is recorded once (``sla_breaches``) or is a status
change, which the outbox carries to the owner as ``order.status_changed``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg

from orders.lifecycle import record_event, transition
from orders.policy import PlacementPolicy

# The end of an order's booking window, as placement reads it (policy.window_end).
WINDOW_END = "COALESCE((match -> 'request' ->> 'before')::timestamptz, due_by)"

EXPIRIES = (
    (
        "SELECT order_id FROM service_orders WHERE status = 'proposed' AND consent = 'propose' "
        "AND match IS NOT NULL AND bundle_id IS NULL AND due_by <= %(now)s",
        "the owner did not confirm before the due date",
    ),
    (
        "SELECT order_id FROM service_orders WHERE status = 'proposed' AND match IS NULL "
        "AND bundle_id IS NULL AND due_by <= %(now)s",
        "no shop was matched before the due date",
    ),
    (
        "SELECT order_id FROM service_orders WHERE status = 'accepted' AND bundle_id IS NULL "
        f"AND {WINDOW_END} <= %(now)s",
        "no visit was booked in the booking window",
    ),
    (
        "SELECT order_id FROM service_orders WHERE status = 'scheduled' AND bundle_id IS NULL "
        "AND appointment_ends_at + %(grace)s <= %(now)s",
        "the car did not come to its appointment",
    ),
)


def remind(conn: psycopg.Connection, *, now: datetime, policy: PlacementPolicy) -> list[Any]:
    """Remind the owner once of each proposal unanswered ``owner_reminder`` after it was made;
    (order_id, due_at) of the reminders sent."""
    rows = conn.execute(
        "INSERT INTO sla_breaches (order_id, timer, due_at, breached_at) "
        "SELECT order_id, 'owner_reminder', created_at + %(wait)s, %(now)s FROM service_orders "
        "WHERE status = 'proposed' AND consent = 'propose' AND match IS NOT NULL "
        "AND bundle_id IS NULL AND created_at + %(wait)s <= %(now)s AND due_by > %(now)s "
        "ON CONFLICT DO NOTHING RETURNING order_id, due_at",
        {"wait": policy.owner_reminder, "now": now},
    ).fetchall()
    for order_id, due_at in rows:
        record_event(
            conn,
            order_id=order_id,
            status="proposed",
            actor="system",
            at=now,
            kind="reminder",
            reason="the owner was asked again to confirm, pick another shop or dismiss the alert",
        )
        payload = {"order_id": order_id, "timer": "owner_reminder", "due_at": due_at.isoformat()}
        conn.execute("SELECT pg_notify('wl_order_sla', %s)", (json.dumps(payload),))
    return rows


def move_on(
    conn: psycopg.Connection,
    *,
    now: datetime,
    policy: PlacementPolicy,
    breach: Callable[..., Any],
) -> list[Any]:
    """Escalate and expire the orders that waited too long; the breaches recorded."""
    found: list[Any] = []
    unmatched = conn.execute(
        "SELECT order_id, created_at + %(wait)s FROM service_orders WHERE status = 'proposed' "
        "AND match IS NULL AND bundle_id IS NULL AND created_at + %(wait)s <= %(now)s",
        {"wait": policy.unmatched_escalation, "now": now},
    ).fetchall()
    for order_id, due in unmatched:
        b = breach(
            conn,
            order_id=order_id,
            timer="unmatched",
            due_at=due,
            now=now,
            note="no shop could be matched yet",
            status="proposed",
            escalate=True,
        )
        found += [b] if b else []
    params = {"now": now, "grace": policy.no_show_grace}
    for sql, reason in EXPIRIES:
        for (order_id,) in conn.execute(sql, params).fetchall():
            transition(
                conn, order_id=order_id, to="expired", actor="system", now=now, reason=reason
            )
    return found
