# SPDX-License-Identifier: MIT
"""Service-level timers: each deadline breached is recorded once, raises an event and escalates.

| timer | deadline | on breach |
| --- | --- | --- |
| shop_response | an offer's ``expires_at`` (default 5 minutes after it was sent) | the offer expires and the order cascades to the next shops |
| appointment_confirmation | ``confirm_due_at`` of an accepted order not yet scheduled | escalated to an operator |
| in_service_overdue | ``service_due_at`` of an order still in service | escalated to an operator |
| owner_reminder | ``owner_reminder`` (2 days) after a proposal the owner has not answered | a ``reminder`` event on the order, NOTIFY |
| unmatched | ``unmatched_escalation`` (1 day) after an order no shop was matched to | escalated to an operator |
| no_show | ``no_show_grace`` (1 day) after the end of a slot the car did not come to | the order expires |
| approval_reminder | ``approval_reminder`` (1 day) after an order began to wait for its fleet's approval, or halfway to its release if sooner | an ``sla_breach`` event asking the manager again, NOTIFY |
| approval_expiry | ``approval_max_wait`` (3 days) after it began to wait, or ``approval_lead`` (2 hours) before its appointment, whichever is first | the order expires, its slot freed and offers withdrawn |

Nothing waits forever for a person: a proposal the owner never confirmed, and an order never
matched, expire at the due date; an order the fleet's manager neither approved nor rejected
expires before its slot (or after the longest wait); an accepted order nobody booked a slot for expires at the
end of its booking window; a missed appointment expires. Each is a status change, so the
owner hears of it through ``order.status_changed`` (webhooks and live events), and the alert
stays open: ordering books it again (``service.REBOOK_AFTER``), or the owner rebooks or
dismisses it (``rebook.py``). ``check_timers`` is idempotent:
``sla_breaches`` has one row per (order, timer, deadline), and only a new row raises events.
The clock is the caller's ``now``; a breach is also announced with NOTIFY ``wl_order_sla``.
"""  # noqa: E501

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import psycopg

from db.rows import dicts
from orders.lifecycle import record_event
from orders.offers import cascade
from orders.policy import PlacementPolicy
from orders.waiting import approvals, move_on, remind

CHANNEL = "wl_order_sla"


@dataclass(frozen=True)
class Breach:
    """A deadline that passed."""

    order_id: int
    timer: str
    due_at: datetime


def _breach(
    conn: psycopg.Connection,
    *,
    order_id: int,
    timer: str,
    due_at: datetime,
    now: datetime,
    note: str,
    status: str,
    shop_id: int | None = None,
    escalate: bool = False,
) -> Breach | None:
    row = conn.execute(
        "INSERT INTO sla_breaches (order_id, timer, due_at, breached_at) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT DO NOTHING RETURNING order_id",
        (order_id, timer, due_at, now),
    ).fetchone()
    if row is None:
        return None
    record_event(
        conn,
        order_id=order_id,
        status=status,
        actor="system",
        at=now,
        kind="sla_breach",
        reason=f"{timer}: {note}",
        shop_id=shop_id,
    )
    if escalate:
        conn.execute("UPDATE service_orders SET escalated = true WHERE order_id = %s", (order_id,))
        record_event(
            conn,
            order_id=order_id,
            status=status,
            actor="system",
            at=now,
            kind="escalation",
            reason=f"escalated to an operator: {timer}",
        )
    payload = {"order_id": order_id, "timer": timer, "due_at": due_at.isoformat()}
    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, json.dumps(payload)))
    return Breach(order_id, timer, due_at)


def check_timers(
    *, conn: psycopg.Connection, now: datetime, policy: PlacementPolicy
) -> list[Breach]:
    """Act on every deadline passed by ``now``; the breaches found this time."""
    found: list[Breach] = []
    with conn.transaction():
        expired = dicts(
            conn,
            "UPDATE service_offers SET response = 'expired', responded_at = %s "
            "WHERE response IS NULL AND expires_at <= %s "
            "RETURNING order_id, shop_id, expires_at",
            (now, now),
        )
        for offer in expired:
            b = _breach(
                conn,
                order_id=offer["order_id"],
                timer="shop_response",
                due_at=offer["expires_at"],
                now=now,
                note=f"shop {offer['shop_id']} did not answer in time",
                status="offered",
                shop_id=offer["shop_id"],
            )
            found += [b] if b else []
        late = dicts(
            conn,
            "SELECT order_id, 'appointment_confirmation' AS timer, confirm_due_at AS due_at, "
            "status FROM service_orders WHERE status = 'accepted' "
            "AND confirm_due_at <= %(now)s AND bundle_id IS NULL "
            "UNION ALL SELECT order_id, 'in_service_overdue', service_due_at, status "
            "FROM service_orders WHERE status = 'in_service' AND service_due_at <= %(now)s "
            # A bundle is one visit: its lead carries the deadlines, its members follow.
            "AND bundle_id IS NULL",
            {"now": now},
        )
        for order in late:
            due = order["due_at"]
            b = _breach(
                conn,
                order_id=order["order_id"],
                timer=order["timer"],
                due_at=due,
                now=now,
                note=f"deadline {due.isoformat()} passed",
                status=order["status"],
                escalate=True,
            )
            found += [b] if b else []
        reminded = remind(conn, now=now, policy=policy)
        found += [Breach(int(r.order_id), "owner_reminder", r.due_at) for r in reminded]
        found += move_on(conn, now=now, policy=policy, breach=_breach)
        found += approvals(conn, now=now, policy=policy, breach=_breach)
    for order_id in sorted({int(offer["order_id"]) for offer in expired}):
        cascade(conn=conn, order_id=order_id, now=now, policy=policy)
    return found
