# SPDX-License-Identifier: MIT
"""What the fleet's approval pages show and do, through the orders package's approval
(``orders.approval``: the policy, the orders waiting, the decision) under the API's rules:
the fleet is ``api.deps.valid_fleet_id``'s (through ``web.fleet.fleet_for``), an order must be
visible to the caller (``GET /service-orders/{id}``'s 404) and one of this fleet's vehicles',
and deciding is the fleet manager's step (``api.orders.actions.may_take``, as
``POST /service-orders/{id}/approve`` and ``/reject`` check it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

import psycopg

from api.auth.principal import Principal
from api.orders.actions import may_take
from db.rows import scalar
from orders import approval
from orders.errors import NotAwaitingApproval, OrderNotFound
from web.orders import Refusal, is_visible

# Decisions the approvals page lists beside the orders waiting.
RECENT = timedelta(days=30)
MAX_LIMIT = Decimal("99999999")


class NotOfFleet(Exception):
    """The order is not one of the fleet's (or the caller may not see it): the page's 404."""


@dataclass
class PolicyForm:
    """The policy form as typed, and its mistakes by field (``limit``, ``currency``)."""

    limit: str = ""
    currency: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def policy_form(policy: approval.Policy | None) -> PolicyForm:
    """The form filled with the fleet's policy (empty without one)."""
    if policy is None:
        return PolicyForm(currency="EUR")
    return PolicyForm(limit=f"{policy.limit_amount:.2f}", currency=policy.currency)


def save_policy(
    *,
    conn: psycopg.Connection,
    principal: Principal,
    fleet_id: int,
    limit: str,
    currency: str,
    now: datetime,
) -> tuple[PolicyForm, approval.Policy | None]:
    """Read and save the form; the policy saved, or None with the mistakes in the form."""
    form = PolicyForm(limit=limit.strip(), currency=currency.strip().upper())
    amount: Decimal | None = None
    try:
        amount = Decimal(form.limit.replace(",", "."))
    except InvalidOperation:
        form.errors["limit"] = "number"
    if amount is not None and (not amount.is_finite() or amount < 0 or amount > MAX_LIMIT):
        form.errors["limit"] = "range"
    if len(form.currency) != 3 or not form.currency.isalpha() or not form.currency.isascii():
        form.errors["currency"] = "code"
    if form.errors or amount is None:
        return form, None
    saved = approval.set_policy(
        conn,
        fleet_id=fleet_id,
        limit_amount=amount.quantize(Decimal("0.01")),
        currency=form.currency,
        actor=principal.subject,
        now=now,
    )
    return policy_form(saved), saved


def orders(*, conn: psycopg.Connection, fleet_id: int, now: datetime) -> list[approval.Waiting]:
    """The fleet's orders waiting for a decision, then those decided in the last 30 days."""
    return approval.fleet_orders(conn, fleet_id=fleet_id, since=now - RECENT)


def decide(
    *,
    conn: psycopg.Connection,
    principal: Principal,
    fleet_id: int,
    order_id: int,
    approve: bool,
    note: str,
    now: datetime,
) -> None:
    """Approve or reject one of the fleet's orders. ``NotOfFleet`` for an order the caller may
    not see or of another fleet; ``Refusal`` (``not_allowed``, ``note_required``,
    ``note_too_long``, ``not_waiting``) when nothing was done."""
    if not is_visible(conn, principal, order_id):
        raise NotOfFleet(order_id)
    ours = scalar(
        conn,
        "SELECT 1 FROM service_orders o JOIN vehicles v USING (vehicle_id) "
        "WHERE o.order_id = %s AND v.fleet_id = %s",
        (order_id, fleet_id),
    )
    if ours is None:
        raise NotOfFleet(order_id)
    if not may_take(principal, "approve" if approve else "reject"):
        raise Refusal("not_allowed")
    if len(note.strip()) > approval.MAX_NOTE:
        raise Refusal("note_too_long")
    try:
        with conn.transaction():
            approval.decide(
                conn,
                order_id=order_id,
                approve=approve,
                actor=principal.subject,
                note=note,
                now=now,
            )
    except ValueError as exc:
        raise Refusal("note_required") from exc
    except NotAwaitingApproval as exc:
        raise Refusal("not_waiting", exc.status) from exc
    except OrderNotFound as exc:
        raise NotOfFleet(order_id) from exc
