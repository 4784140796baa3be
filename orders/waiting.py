# SPDX-License-Identifier: MIT
"""Orders waiting for a person, moved on by ``sla.check_timers``: reminders and expiries.

See the table in ``sla.py``. The owner's proposals and the fleet's approvals each have a
reminder and a release (``remind``, ``approvals``). Each step is recorded once
(``sla_breaches``) or is a status change, which the outbox carries to the owner as
``order.status_changed``.
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
from orders.lifecycle import HELD, record_event, transition
from orders.placement import NO_APPOINTMENT
from orders.policy import PlacementPolicy
from orders.slots import release_slot

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


# When an order waiting for its fleet's approval is released: ``approval_max_wait`` after it
# began to wait, or ``approval_lead`` before its appointment (LEAST skips a missing one); the
# reminder comes ``approval_reminder`` after it began to wait, or halfway to the release.
APPROVAL_DEADLINE = sql.SQL("LEAST(approval_at + %(max_wait)s, appointment_starts_at - %(lead)s)")
APPROVAL_REMINDER = sql.SQL(
    "LEAST(approval_at + %(remind)s, approval_at + ({deadline} - approval_at) / 2)"
).format(deadline=APPROVAL_DEADLINE)
APPROVAL_RELEASED = (
    "the fleet did not approve or reject it in time: the order is released, its alert stays "
    "open to book again or dismiss"
)


@dataclass(frozen=True, slots=True)
class _Pending:
    """An order waiting for its fleet's approval, and its timers."""

    order_id: int
    status: str
    shop_id: int | None
    remind_at: datetime
    release_at: datetime


def approvals(
    conn: psycopg.Connection,
    *,
    now: datetime,
    policy: PlacementPolicy,
    breach: Callable[..., Any],
) -> list[Any]:
    """Remind the fleet's manager once of each order still waiting for approval, and release
    the ones whose wait is over: the order expires (its slot freed, its offers withdrawn), so
    the owner hears of it (``order.status_changed``) and the alert can be booked again. The
    breaches recorded (``approval_reminder``, ``approval_expiry``)."""
    found: list[Any] = []
    waiting = records(
        conn,
        _Pending,
        sql.SQL(
            "SELECT order_id, status, shop_id, {remind} AS remind_at, {deadline} AS release_at "
            "FROM service_orders WHERE approval = 'pending' AND bundle_id IS NULL "
            "AND status IN ('proposed', 'offered', 'accepted', 'scheduled') "
            "AND {remind} <= %(now)s ORDER BY order_id FOR UPDATE"
        ).format(remind=APPROVAL_REMINDER, deadline=APPROVAL_DEADLINE),
        {
            "now": now,
            "max_wait": policy.approval_max_wait,
            "lead": policy.approval_lead,
            "remind": policy.approval_reminder,
        },
    )
    for order in waiting:
        held = order.shop_id if order.status in HELD else None
        if order.release_at > now:
            b = breach(
                conn,
                order_id=order.order_id,
                timer="approval_reminder",
                due_at=order.remind_at,
                now=now,
                note=(
                    "the fleet's manager was asked again to approve or reject it before "
                    f"{order.release_at.isoformat(timespec='minutes')}"
                ),
                status=order.status,
                shop_id=held,
            )
            found += [b] if b else []
            continue
        b = breach(
            conn,
            order_id=order.order_id,
            timer="approval_expiry",
            due_at=order.release_at,
            now=now,
            note="no decision of the fleet by its deadline",
            status=order.status,
            shop_id=held,
        )
        found += [b] if b else []
        transition(
            conn,
            order_id=order.order_id,
            to="expired",
            actor="system",
            now=now,
            reason=APPROVAL_RELEASED,
            set_fields=NO_APPOINTMENT,
        )
        release_slot(conn=conn, order_id=order.order_id)
        conn.execute(
            "UPDATE service_offers SET response = 'withdrawn', responded_at = %s "
            "WHERE order_id = %s AND response IS NULL",
            (now, order.order_id),
        )
    return found
