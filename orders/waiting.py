# SPDX-License-Identifier: MIT
"""Orders waiting for a person, moved on by ``sla.check_timers``: reminders and expiries.

See the table in ``sla.py``. Each step is recorded once (``sla_breaches``) or is a status
change, which the outbox carries to the owner as ``order.status_changed``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from db.rows import dicts, records, scalars
from orders.lifecycle import record_event, transition
from orders.policy import PlacementPolicy

# The end of an order's booking window, as placement reads it (policy.window_end).
WINDOW_END = sql.SQL("COALESCE((match -> 'request' ->> 'before')::timestamptz, due_by)")

EXPIRIES: tuple[tuple[sql.SQL | sql.Composed, str], ...] = (
    (
        sql.SQL(
            "SELECT order_id FROM service_orders WHERE status = 'proposed' "
            "AND consent = 'propose' AND match IS NOT NULL AND bundle_id IS NULL "
            "AND due_by <= %(now)s"
        ),
        "the owner did not confirm before the due date",
    ),
    (
        sql.SQL(
            "SELECT order_id FROM service_orders WHERE status = 'proposed' AND match IS NULL "
            "AND bundle_id IS NULL AND due_by <= %(now)s"
        ),
        "no shop was matched before the due date",
    ),
    (
        sql.SQL(
            "SELECT order_id FROM service_orders WHERE status = 'accepted' AND bundle_id IS NULL "
            "AND {} <= %(now)s"
        ).format(WINDOW_END),
        "no visit was booked in the booking window",
    ),
    (
        sql.SQL(
            "SELECT order_id FROM service_orders WHERE status = 'scheduled' "
            "AND bundle_id IS NULL AND appointment_ends_at + %(grace)s <= %(now)s"
        ),
        "the car did not come to its appointment",
    ),
)


@dataclass(frozen=True, slots=True)
class Reminder:
    """A reminder sent to the owner of a proposal: the order and when it was due."""

    order_id: int
    due_at: datetime


def remind(conn: psycopg.Connection, *, now: datetime, policy: PlacementPolicy) -> list[Reminder]:
    """Remind the owner once of each proposal unanswered ``owner_reminder`` after it was made;
    the reminders sent."""
    rows = records(
        conn,
        Reminder,
        "INSERT INTO sla_breaches (order_id, timer, due_at, breached_at) "
        "SELECT order_id, 'owner_reminder', created_at + %(wait)s, %(now)s FROM service_orders "
        "WHERE status = 'proposed' AND consent = 'propose' AND match IS NOT NULL "
        "AND bundle_id IS NULL AND created_at + %(wait)s <= %(now)s AND due_by > %(now)s "
        "ON CONFLICT DO NOTHING RETURNING order_id, due_at",
        {"wait": policy.owner_reminder, "now": now},
    )
    for r in rows:
        record_event(
            conn,
            order_id=r.order_id,
            status="proposed",
            actor="system",
            at=now,
            kind="reminder",
            reason="the owner was asked again to confirm, pick another shop or dismiss the alert",
        )
        payload = {
            "order_id": r.order_id,
            "timer": "owner_reminder",
            "due_at": r.due_at.isoformat(),
        }
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
    unmatched = dicts(
        conn,
        "SELECT order_id, created_at + %(wait)s AS due_at FROM service_orders "
        "WHERE status = 'proposed' AND match IS NULL AND bundle_id IS NULL "
        "AND created_at + %(wait)s <= %(now)s",
        {"wait": policy.unmatched_escalation, "now": now},
    )
    for u in unmatched:
        b = breach(
            conn,
            order_id=u["order_id"],
            timer="unmatched",
            due_at=u["due_at"],
            now=now,
            note="no shop could be matched yet",
            status="proposed",
            escalate=True,
        )
        found += [b] if b else []
    params = {"now": now, "grace": policy.no_show_grace}
    for query, reason in EXPIRIES:
        for order_id in scalars(conn, query, params):
            transition(
                conn, order_id=order_id, to="expired", actor="system", now=now, reason=reason
            )
    return found
