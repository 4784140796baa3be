# SPDX-License-Identifier: MIT
"""A fleet's approval policy: an order estimated within the fleet's limit goes through by
itself, one over it (or priced in another currency) waits for the manager, who approves or
rejects it with a note; the shop cannot check in, start or complete an order that waits or
was rejected; every step is an event naming who, when and why; a person's decision stands."""

from decimal import Decimal

import factories
import pytest
from orders_helpers import NOW
from placement_helpers import MIN, T0, berlin_shops, open_order, policy

from orders import approval
from orders.errors import AwaitingApproval, NotAwaitingApproval
from orders.feedback import check_in, start_service
from orders.lifecycle import history
from orders.offers import respond
from orders.placement import owner_confirm, propose, schedule
from orders.service import get_order

MANAGER = "user:4242"


def fleet_order(conn, limit: str | None, currency: str = "EUR", vin="WLAPR000000000001"):
    """A fleet vehicle's proposed oil order (shop A, the nearest, prices it at 100 EUR) under
    a policy of ``limit`` (None: no policy); its id."""
    fleet_id = factories.fleet(conn).fleet_id
    if limit is not None:
        approval.set_policy(
            conn,
            fleet_id=fleet_id,
            limit_amount=Decimal(limit),
            currency=currency,
            actor=MANAGER,
            now=NOW,
        )
    vehicle_id, order_id = open_order(conn, vin=vin)
    conn.execute("UPDATE vehicles SET fleet_id = %s WHERE vehicle_id = %s", (fleet_id, vehicle_id))
    return order_id


def booked(conn, order_id):
    """Place the order at shop A and book its earliest slot."""
    owner_confirm(conn=conn, order_id=order_id, now=T0, policy=policy(mode="auto"))
    schedule(conn=conn, order_id=order_id, now=T0, actor="owner")


def approval_events(conn, order_id):
    return [
        (kind, actor, note)
        for _, kind, _, _, actor, note in history(conn, order_id)
        if kind == "approval"
    ]


def test_an_order_within_the_limit_is_approved_by_itself(conn):
    berlin_shops(conn)
    order_id = fleet_order(conn, "100.00")
    propose(conn=conn, order_id=order_id, now=T0, policy=policy(mode="auto"))
    order = get_order(conn=conn, order_id=order_id)
    assert (order.approval, order.approval_by, order.approval_at) == ("auto", "fleet-policy", T0)
    assert approval_events(conn, order_id) == [
        (
            "approval",
            "fleet-policy",
            "approved automatically: estimate 100.00 EUR within the fleet's limit 100.00",
        )
    ]
    booked(conn, order_id)
    check_in(conn=conn, order_id=order_id, now=T0 + MIN, actor="shop")
    assert get_order(conn=conn, order_id=order_id).status == "checked_in"


def test_an_order_over_the_limit_waits_for_the_manager_who_approves_it(conn):
    berlin_shops(conn)
    order_id = fleet_order(conn, "50")
    propose(conn=conn, order_id=order_id, now=T0, policy=policy(mode="auto"))
    assert get_order(conn=conn, order_id=order_id).approval == "pending"
    booked(conn, order_id)  # the shop may take and book it; the work waits
    with pytest.raises(AwaitingApproval, match="waiting for the fleet's approval"):
        check_in(conn=conn, order_id=order_id, now=T0 + MIN, actor="shop")
    assert get_order(conn=conn, order_id=order_id).status == "scheduled"

    approval.decide(
        conn, order_id=order_id, approve=True, actor=MANAGER, note="budget Q4", now=T0 + 2 * MIN
    )
    order = get_order(conn=conn, order_id=order_id)
    assert (order.approval, order.approval_by, order.approval_note) == (
        "approved",
        MANAGER,
        "budget Q4",
    )
    assert order.approval_at == T0 + 2 * MIN
    assert approval_events(conn, order_id)[-1] == (
        "approval",
        MANAGER,
        "approved by the fleet: budget Q4",
    )
    check_in(conn=conn, order_id=order_id, now=T0 + 3 * MIN, actor="shop")
    start_service(conn=conn, order_id=order_id, now=T0 + 4 * MIN, actor="shop")
    assert get_order(conn=conn, order_id=order_id).status == "in_service"
    # Decided once: a second decision is refused.
    with pytest.raises(NotAwaitingApproval):
        approval.decide(conn, order_id=order_id, approve=False, actor=MANAGER, note="x", now=T0)


def test_a_rejected_order_cannot_be_checked_in_and_says_why(conn):
    berlin_shops(conn)
    order_id = fleet_order(conn, "50")
    propose(conn=conn, order_id=order_id, now=T0, policy=policy(mode="auto"))
    booked(conn, order_id)
    with pytest.raises(ValueError, match="say why"):
        approval.decide(conn, order_id=order_id, approve=False, actor=MANAGER, note=" ", now=T0)
    assert get_order(conn=conn, order_id=order_id).approval == "pending"
    approval.decide(
        conn, order_id=order_id, approve=False, actor=MANAGER, note="use our own garage", now=T0
    )
    with pytest.raises(AwaitingApproval, match="rejected by the fleet: use our own garage"):
        check_in(conn=conn, order_id=order_id, now=T0 + MIN, actor="shop")
    assert approval_events(conn, order_id)[-1] == (
        "approval",
        MANAGER,
        "rejected by the fleet: use our own garage",
    )


def test_no_policy_no_approval_and_another_currency_waits(conn):
    berlin_shops(conn)
    free = fleet_order(conn, None, vin="WLAPR000000000002")
    propose(conn=conn, order_id=free, now=T0, policy=policy(mode="auto"))
    assert get_order(conn=conn, order_id=free).approval is None
    assert approval_events(conn, free) == []
    with pytest.raises(NotAwaitingApproval):
        approval.decide(conn, order_id=free, approve=True, actor=MANAGER, note="", now=T0)

    other = fleet_order(conn, "1000", currency="usd", vin="WLAPR000000000003")
    propose(conn=conn, order_id=other, now=T0, policy=policy(mode="auto"))
    assert get_order(conn=conn, order_id=other).approval == "pending"
    assert "estimate in EUR, the fleet's limit in USD" in approval_events(conn, other)[0][2]


def test_a_shop_with_a_higher_price_taking_the_order_makes_it_wait(conn):
    shops = berlin_shops(conn)
    order_id = fleet_order(conn, "100.50")  # A asks 100, B 101
    propose(conn=conn, order_id=order_id, now=T0, policy=policy(mode="sequential"))
    assert get_order(conn=conn, order_id=order_id).approval == "auto"
    owner_confirm(
        conn=conn,
        order_id=order_id,
        now=T0,
        policy=policy(mode="sequential"),
        shop_id=shops["B"],
    )
    offer_id = conn.execute(
        "SELECT offer_id FROM service_offers WHERE order_id = %s AND response IS NULL",
        (order_id,),
    ).fetchone()[0]
    respond(conn=conn, offer_id=offer_id, accept=True, now=T0 + MIN, policy=policy())
    order = get_order(conn=conn, order_id=order_id)
    assert (order.status, order.shop_id, order.approval) == ("accepted", shops["B"], "pending")
    assert (
        "estimate 101.00 EUR over the fleet's limit 100.50"
        in approval_events(conn, order_id)[-1][2]
    )
