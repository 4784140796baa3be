# SPDX-License-Identifier: MIT
"""A fleet's approval of its vehicles' orders: a cost limit (in the fleet's currency) under
which an order goes through by itself; above it the fleet's manager approves or rejects it.

::

    (no policy) NULL
    assess (placed, or a shop took it) ─▶ auto      estimate ≤ limit, same currency
                                       └▶ pending   over the limit, another currency, no price
    decide (the manager, a note)  pending ─▶ approved | rejected

The approval is a column of the order beside its status (``service_orders.approval``, with
who decided, when and the note; migration ``0022``), so the lifecycle's steps stay as they
are; what it stops is the work: a shop cannot check in, start or complete an order that waits
for the fleet or that the fleet rejected (``require_approved``, ``AwaitingApproval``). Every
change is an ``approval`` event in the order's history (who, when, why). A person's decision
stands; only the policy's own verdict (``auto``) is assessed again when a shop with another
price takes the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg

from db.rows import a_dict, dicts, record
from orders.errors import AwaitingApproval, NotAwaitingApproval, OrderNotFound
from orders.lifecycle import HELD, TERMINAL, record_event

# The approval's states; the ones that stop the shop's work.
STATES = ("auto", "pending", "approved", "rejected")
BLOCKING = ("pending", "rejected")
POLICY_ACTOR = "fleet-policy"
MAX_NOTE = 500


@dataclass(frozen=True, slots=True)
class Policy:
    """A fleet's approval policy: orders up to ``limit_amount`` ``currency`` go through."""

    fleet_id: int
    limit_amount: Decimal
    currency: str
    updated_at: datetime
    updated_by: str


def get_policy(conn: psycopg.Connection, *, fleet_id: int) -> Policy | None:
    """The fleet's approval policy, or None (its orders need no approval)."""
    return record(
        conn,
        Policy,
        "SELECT fleet_id, limit_amount, currency, updated_at, updated_by "
        "FROM fleet_approval_policies WHERE fleet_id = %s",
        (fleet_id,),
    )


def set_policy(
    conn: psycopg.Connection,
    *,
    fleet_id: int,
    limit_amount: Decimal,
    currency: str,
    actor: str,
    now: datetime,
) -> Policy:
    """Set (or change) the fleet's limit; orders assessed from now on follow it, decisions
    already taken stand."""
    if limit_amount < 0:
        raise ValueError("the limit cannot be negative")
    currency = currency.strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise ValueError("the currency is a three-letter code such as EUR")
    conn.execute(
        "INSERT INTO fleet_approval_policies (fleet_id, limit_amount, currency, updated_at, "
        "updated_by) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (fleet_id) DO UPDATE SET "
        "limit_amount = EXCLUDED.limit_amount, currency = EXCLUDED.currency, "
        "updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by",
        (fleet_id, limit_amount, currency, now, actor),
    )
    found = get_policy(conn, fleet_id=fleet_id)
    assert found is not None
    return found


def price_of(order: dict[str, Any]) -> tuple[Decimal | None, str | None]:
    """What the order will cost: the holding shop's own price once a shop took it (its entry
    of the ranking), before that the stored estimate (the best-ranked shop's)."""
    if order["shop_id"] is not None and order["status"] in HELD:
        for entry in (order["match"] or {}).get("ranked", []):
            if entry.get("shop_id") == order["shop_id"]:
                inputs = entry.get("inputs") or {}
                if inputs.get("price") is None:
                    return None, None
                return Decimal(str(inputs["price"])), inputs.get("currency")
    estimate = order["estimate"] or {}
    if estimate.get("total") is None:
        return None, None
    return Decimal(str(estimate["total"])), estimate.get("currency")


def _verdict(order: dict[str, Any]) -> tuple[str, str]:
    """The policy's verdict on the order and why, in the history's words."""
    limit = Decimal(order["limit_amount"])
    fleet_currency = order["currency"]
    price, currency = price_of(order)
    if price is None:
        return "pending", "no estimate to compare with the fleet's limit"
    if currency != fleet_currency:
        return "pending", f"estimate in {currency}, the fleet's limit in {fleet_currency}"
    if price <= limit:
        return "auto", f"estimate {price:.2f} {currency} within the fleet's limit {limit:.2f}"
    return "pending", f"estimate {price:.2f} {currency} over the fleet's limit {limit:.2f}"


def assess(conn: psycopg.Connection, *, order_id: int, now: datetime) -> str | None:
    """Apply the vehicle's fleet's policy to the order; its approval after (None: none
    applies). A person's decision, or an order already waiting for one, is left as it is."""
    with conn.transaction():
        order = a_dict(
            conn,
            "SELECT o.status, o.shop_id, o.match, o.estimate, o.approval, p.limit_amount, "
            "p.currency FROM service_orders o JOIN vehicles v USING (vehicle_id) "
            "LEFT JOIN fleet_approval_policies p ON p.fleet_id = v.fleet_id "
            "WHERE o.order_id = %s FOR UPDATE OF o",
            (order_id,),
        )
        if order is None:
            raise OrderNotFound(order_id)
        current: str | None = order["approval"]
        if current in ("pending", "approved", "rejected") or order["status"] in TERMINAL:
            return current
        if order["limit_amount"] is None:
            return current
        verdict, why = _verdict(order)
        if verdict == current:
            return current
        conn.execute(
            "UPDATE service_orders SET approval = %s, approval_by = %s, approval_at = %s, "
            "approval_note = NULL WHERE order_id = %s",
            (verdict, POLICY_ACTOR, now, order_id),
        )
        words = "approved automatically" if verdict == "auto" else "waiting for the fleet"
        record_event(
            conn,
            order_id=order_id,
            status=order["status"],
            actor=POLICY_ACTOR,
            reason=f"{words}: {why}",
            at=now,
            kind="approval",
            shop_id=order["shop_id"] if order["status"] in HELD else None,
        )
        return verdict


def decide(
    conn: psycopg.Connection,
    *,
    order_id: int,
    approve: bool,
    actor: str,
    note: str,
    now: datetime,
) -> str:
    """The fleet manager's decision on an order waiting for it; a rejection needs a note.
    ``NotAwaitingApproval`` when the order does not wait (decided, or no approval needed)."""
    note = note.strip()
    if not approve and not note:
        raise ValueError("say why the order is rejected")
    if len(note) > MAX_NOTE:
        raise ValueError(f"the note is longer than {MAX_NOTE} characters")
    decision = "approved" if approve else "rejected"
    with conn.transaction():
        order = a_dict(
            conn,
            "SELECT status, shop_id, approval FROM service_orders WHERE order_id = %s FOR UPDATE",
            (order_id,),
        )
        if order is None:
            raise OrderNotFound(order_id)
        if order["approval"] != "pending" or order["status"] in TERMINAL:
            raise NotAwaitingApproval(order_id, order["approval"], order["status"])
        conn.execute(
            "UPDATE service_orders SET approval = %s, approval_by = %s, approval_at = %s, "
            "approval_note = %s, updated_at = %s WHERE order_id = %s",
            (decision, actor, now, note or None, now, order_id),
        )
        words = "approved by the fleet" if approve else "rejected by the fleet"
        record_event(
            conn,
            order_id=order_id,
            status=order["status"],
            actor=actor,
            reason=f"{words}: {note}" if note else words,
            at=now,
            kind="approval",
            shop_id=order["shop_id"] if order["status"] in HELD else None,
        )
    return decision


def require_approved(conn: psycopg.Connection, *, order_id: int) -> None:
    """``AwaitingApproval`` when the order waits for its fleet or was rejected. Call it in the
    step's transaction: it locks the order, so a decision cannot slip in between."""
    order = a_dict(
        conn,
        "SELECT approval, approval_note FROM service_orders WHERE order_id = %s FOR UPDATE",
        (order_id,),
    )
    if order is None:
        raise OrderNotFound(order_id)
    if order["approval"] in BLOCKING:
        raise AwaitingApproval(order_id, order["approval"], order["approval_note"])


@dataclass(frozen=True, slots=True)
class Waiting:
    """An order of the fleet's as the approvals page lists it."""

    order_id: int
    vehicle_id: int
    vin: str
    name: str | None
    issue: str
    status: str
    approval: str
    approval_by: str | None
    approval_at: datetime | None
    approval_note: str | None
    shop_name: str | None
    price: Decimal | None
    currency: str | None


def fleet_orders(
    conn: psycopg.Connection, *, fleet_id: int, since: datetime, limit: int = 200
) -> list[Waiting]:
    """The fleet's open orders waiting for approval (oldest first), then those decided or
    approved automatically since ``since`` (newest first)."""
    rows = dicts(
        conn,
        "SELECT o.order_id, o.vehicle_id, o.vin, o.issue, o.status, o.shop_id, o.match, "
        "o.estimate, o.approval, o.approval_by, o.approval_at, o.approval_note, "
        "s.name AS shop_name, NULLIF(concat_ws(' ', v.make, v.model), '') AS name "
        "FROM service_orders o JOIN vehicles v USING (vehicle_id) "
        "LEFT JOIN shops s ON s.shop_id = o.shop_id "
        "WHERE v.fleet_id = %(fleet)s AND o.approval IS NOT NULL "
        # An order that ended while it waited (released, cancelled) waits for nobody.
        "AND ((o.approval = 'pending' AND o.status <> ALL(%(ended)s)) "
        "OR (o.approval <> 'pending' AND o.approval_at >= %(since)s)) "
        "ORDER BY o.approval = 'pending' DESC, "
        "CASE WHEN o.approval = 'pending' THEN o.approval_at END ASC, o.approval_at DESC "
        "LIMIT %(limit)s",
        {"fleet": fleet_id, "since": since, "limit": limit, "ended": list(TERMINAL)},
    )
    found = []
    for r in rows:
        price, currency = price_of(r)
        found.append(
            Waiting(
                order_id=r["order_id"],
                vehicle_id=r["vehicle_id"],
                vin=r["vin"],
                name=r["name"],
                issue=r["issue"],
                status=r["status"],
                approval=r["approval"],
                approval_by=r["approval_by"],
                approval_at=r["approval_at"],
                approval_note=r["approval_note"],
                shop_name=r["shop_name"],
                price=price,
                currency=currency,
            )
        )
    return found
