# SPDX-License-Identifier: MIT
"""A fleet's approval policy: an order estimated within the fleet's limit goes through by
itself, one over it (or priced in another currency) waits for the manager, who approves or
rejects it with a note; the shop cannot check in, start or complete an order that waits or
was rejected; every step is an event naming who, when and why; a person's decision stands.
Nothing waits forever for the manager: a reminder, then the order is released before its slot
(or after the longest wait) and its alert can be booked again. Times are relative to when the
suite runs (``T0``, the Monday after now)."""

from datetime import timedelta
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
from orders.placement import free_slots, owner_confirm, propose, schedule
from orders.rebook import rebook
from orders.service import get_order
from orders.sla import check_timers
from orders.waiting import APPROVAL_RELEASED

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


def _approval_breaches(breaches):
    return [(b.order_id, b.timer) for b in breaches if b.timer.startswith("approval_")]


def test_an_undecided_approval_reminds_the_manager_then_releases_the_order_before_its_slot(
    conn,
):
    berlin_shops(conn)
    p = policy(mode="auto")
    order_id = fleet_order(conn, "50")
    propose(conn=conn, order_id=order_id, now=T0, policy=p)
    owner_confirm(conn=conn, order_id=order_id, now=T0, policy=p)
    # The visit two days on: released two hours before it, the manager reminded after a day.
    slot = next(
        s
        for s in free_slots(conn=conn, order_id=order_id, now=T0, limit=500)
        if s.starts_at >= T0 + DAY2
    )
    schedule(conn=conn, order_id=order_id, now=T0, actor="owner", slot_id=slot.slot_id)
    order = get_order(conn=conn, order_id=order_id)
    assert (order.status, order.approval, order.approval_at) == ("scheduled", "pending", T0)
    release = slot.starts_at - p.approval_lead
    assert release < T0 + p.approval_max_wait
    remind = min(T0 + p.approval_reminder, T0 + (release - T0) / 2)

    assert _approval_breaches(check_timers(conn=conn, now=remind - MIN, policy=p)) == []
    assert _approval_breaches(check_timers(conn=conn, now=remind, policy=p)) == [
        (order_id, "approval_reminder")
    ]
    assert _approval_breaches(check_timers(conn=conn, now=remind + MIN, policy=p)) == []  # once
    *_, (_, kind, _, status, actor, note) = history(conn, order_id)
    assert (kind, status, actor) == ("sla_breach", "scheduled", "system")
    assert note.startswith("approval_reminder: the fleet's manager was asked again")
    assert approval.fleet_orders(conn, fleet_id=_fleet(conn, order_id), since=T0)[0].order_id == (
        order_id
    )

    check_timers(conn=conn, now=release - MIN, policy=p)
    assert get_order(conn=conn, order_id=order_id).status == "scheduled"
    assert _approval_breaches(check_timers(conn=conn, now=release, policy=p)) == [
        (order_id, "approval_expiry")
    ]
    order = get_order(conn=conn, order_id=order_id)
    assert order.status == "expired"
    # The shop gets its bay back, the order its appointment cleared; the owner hears of it
    # through the status change, whose reason says why and what is left to do.
    assert (order.appointment_starts_at, order.appointment_bay) == (None, None)
    held = "SELECT count(*) FROM shop_slots WHERE order_id = %s"
    assert conn.execute(held, (order_id,)).fetchone()[0] == 0
    *_, (_, kind, before, status, actor, note) = history(conn, order_id)
    assert (kind, before, status, actor, note) == (
        "transition",
        "scheduled",
        "expired",
        "system",
        APPROVAL_RELEASED,
    )
    outbox = conn.execute(
        "SELECT count(*) FROM outbox WHERE event_type = 'order.status_changed' "
        "AND payload->>'status' = 'expired' AND (payload->>'order_id')::bigint = %s",
        (order_id,),
    ).fetchone()[0]
    assert outbox == 1
    # The manager's list no longer waits on it; its alert is booked again by the owner's side.
    assert approval.fleet_orders(conn, fleet_id=_fleet(conn, order_id), since=T0) == []
    again = rebook(conn=conn, order_id=order_id, now=release + MIN, actor="owner")
    assert again != order_id
    assert get_order(conn=conn, order_id=again).alert_id == order.alert_id


def test_an_approval_without_a_slot_is_released_after_the_longest_wait(conn):
    berlin_shops(conn)
    p = policy(mode="auto")
    order_id = fleet_order(conn, "50")
    propose(conn=conn, order_id=order_id, now=T0, policy=p)
    owner_confirm(conn=conn, order_id=order_id, now=T0, policy=p)
    order = get_order(conn=conn, order_id=order_id)
    assert (order.status, order.approval) == ("accepted", "pending")
    # Half the wait is the reminder's when it is sooner than approval_reminder.
    short = policy(mode="auto", approval_max_wait=timedelta(hours=6))
    assert _approval_breaches(check_timers(conn=conn, now=T0 + timedelta(hours=3), policy=short))
    assert get_order(conn=conn, order_id=order_id).status == "accepted"
    assert _approval_breaches(
        check_timers(conn=conn, now=T0 + timedelta(hours=6), policy=short)
    ) == [(order_id, "approval_expiry")]
    assert get_order(conn=conn, order_id=order_id).status == "expired"


def test_a_decided_approval_has_no_timer(conn):
    berlin_shops(conn)
    p = policy(mode="auto")
    order_id = fleet_order(conn, "50")
    propose(conn=conn, order_id=order_id, now=T0, policy=p)
    booked(conn, order_id)
    approval.decide(conn, order_id=order_id, approve=True, actor=MANAGER, note="", now=T0 + MIN)
    # At the slot's start an undecided order would have been released: this one stays.
    starts = get_order(conn=conn, order_id=order_id).appointment_starts_at
    assert _approval_breaches(check_timers(conn=conn, now=starts, policy=p)) == []
    assert get_order(conn=conn, order_id=order_id).status == "scheduled"


DAY2 = timedelta(days=2)


def _fleet(conn, order_id):
    return conn.execute(
        "SELECT v.fleet_id FROM service_orders o JOIN vehicles v USING (vehicle_id) "
        "WHERE o.order_id = %s",
        (order_id,),
    ).fetchone()[0]
