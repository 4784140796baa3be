# SPDX-License-Identifier: MIT
"""After an order ends without the work: rebooking, dismissing the alert, dispatch booking a
declined or expired order's alert again, and timers that move waiting orders on."""

from datetime import datetime

import pytest
from placement_helpers import MIN, T0, berlin_shops, brake_order, open_order, policy

from orders.errors import NotRebookable
from orders.lifecycle import history
from orders.placement import cancel, owner_confirm, propose, reschedule, schedule
from orders.rebook import dismiss_alert, rebook
from orders.service import REBOOK_AFTER, get_order, order_open_alerts
from orders.sla import check_timers


def _status(conn, order_id):
    return get_order(conn=conn, order_id=order_id).status


def test_a_cancelled_order_is_rebooked_by_its_owner_and_dispatch_waits_for_them(conn):
    berlin_shops(conn)
    _, order_id = open_order(conn)
    with pytest.raises(NotRebookable, match="only a cancelled, declined or expired"):
        rebook(conn=conn, order_id=order_id, now=T0, actor="user:1")
    cancel(conn=conn, order_id=order_id, now=T0, actor="user:1", reason="the van is away")
    # The owner decided: dispatch does not book the alert again behind their back.
    assert order_open_alerts(conn=conn, now=T0 + 30 * REBOOK_AFTER) == []
    new = rebook(conn=conn, order_id=order_id, now=T0 + MIN, actor="user:1")
    order, old = get_order(conn=conn, order_id=new), get_order(conn=conn, order_id=order_id)
    assert new != order_id and order.status == "proposed"
    assert (order.alert_id, order.component) == (old.alert_id, old.component)
    assert history(conn, order_id)[-1][1:] == (
        "rebook",
        None,
        "cancelled",
        "user:1",
        f"booked again as order {new}",
    )
    # The new order can be matched and booked like the first.
    assert propose(conn=conn, order_id=new, now=T0 + MIN, policy=policy())


def test_an_order_of_a_resolved_alert_is_not_booked_again(conn):
    berlin_shops(conn)
    _, order_id = open_order(conn)
    cancel(conn=conn, order_id=order_id, now=T0, actor="user:1", reason="done elsewhere")
    conn.execute("UPDATE alerts SET status = 'resolved'")
    with pytest.raises(NotRebookable, match="alert is resolved"):
        rebook(conn=conn, order_id=order_id, now=T0, actor="user:1")


def test_dispatch_books_a_declined_order_again_after_a_rest(conn):
    # No shops at all: nobody can take the order.
    _, order_id = open_order(conn)
    assert propose(conn=conn, order_id=order_id, now=T0, policy=policy()) == []
    assert _status(conn, order_id) == "declined"
    assert order_open_alerts(conn=conn, now=T0 + REBOOK_AFTER - MIN) == []
    (again,) = order_open_alerts(conn=conn, now=T0 + REBOOK_AFTER)
    assert again != order_id and _status(conn, again) == "proposed"
    assert order_open_alerts(conn=conn, now=T0 + 2 * REBOOK_AFTER) == []


def test_dismissing_an_alert_resolves_it_with_the_reason_and_cancels_its_order(conn):
    shops = berlin_shops(conn)
    _, order_id = open_order(conn)
    propose(conn=conn, order_id=order_id, now=T0, policy=policy(mode="auto"), consent="auto_book")
    schedule(conn=conn, order_id=order_id, now=T0, actor="system:auto-book")
    assert get_order(conn=conn, order_id=order_id).status == "scheduled"
    alert_id = get_order(conn=conn, order_id=order_id).alert_id
    cancelled = dismiss_alert(
        conn=conn, alert_id=alert_id, now=T0 + MIN, actor="user:7", reason="changed abroad"
    )
    assert cancelled == [order_id] and _status(conn, order_id) == "cancelled"
    alert = conn.execute(
        "SELECT status, resolved_at, dismissed_by, dismissed_reason FROM alerts"
    ).fetchone()
    assert alert == ("resolved", T0 + MIN, "user:7", "changed abroad")
    assert [e[1] for e in history(conn, order_id)][-2:] == ["transition", "dismissal"]
    # The slot is free again and the order has no appointment left.
    assert conn.execute(
        "SELECT count(*) FROM shop_slots WHERE order_id IS NOT NULL AND shop_id = %s",
        (shops["A"],),
    ).fetchone() == (0,)
    assert get_order(conn=conn, order_id=order_id).appointment_starts_at is None
    with pytest.raises(NotRebookable, match="resolved already"):
        dismiss_alert(conn=conn, alert_id=alert_id, now=T0, actor="user:7", reason="again")
    assert order_open_alerts(conn=conn, now=T0 + 30 * REBOOK_AFTER) == []


def test_an_unanswered_proposal_is_reminded_then_expires_and_is_booked_again(conn):
    berlin_shops(conn)
    _, order_id = open_order(conn)
    p = policy()
    propose(conn=conn, order_id=order_id, now=T0, policy=p)
    created, due = conn.execute("SELECT created_at, due_by FROM service_orders").fetchone()
    reminder_at = created + p.owner_reminder
    assert reminder_at < due
    assert [b.timer for b in check_timers(conn=conn, now=reminder_at - MIN, policy=p)] == []
    (b,) = check_timers(conn=conn, now=reminder_at, policy=p)
    assert (b.order_id, b.timer) == (order_id, "owner_reminder")
    assert check_timers(conn=conn, now=reminder_at + MIN, policy=p) == []  # once
    assert history(conn, order_id)[-1][1] == "reminder"
    check_timers(conn=conn, now=due, policy=p)
    assert _status(conn, order_id) == "expired"
    # The alert is still open: dispatch books it again once the order has rested.
    (again,) = order_open_alerts(conn=conn, now=due + REBOOK_AFTER)
    assert _status(conn, again) == "proposed"


def test_a_missed_appointment_and_an_unbooked_acceptance_expire(conn):
    berlin_shops(conn)
    p = policy(mode="auto")
    _, booked = open_order(conn)
    propose(conn=conn, order_id=booked, now=T0, policy=p, consent="auto_book")
    schedule(conn=conn, order_id=booked, now=T0, actor="system:auto-book")
    ends = get_order(conn=conn, order_id=booked).appointment_ends_at
    _, accepted = open_order(conn, vin="WLDSP000000000002")
    propose(conn=conn, order_id=accepted, now=T0, policy=p)
    owner_confirm(conn=conn, order_id=accepted, now=T0, policy=p)
    assert _status(conn, accepted) == "accepted"
    window = get_order(conn=conn, order_id=accepted).match["request"]["before"]
    check_timers(conn=conn, now=ends + p.no_show_grace - MIN, policy=p)
    assert _status(conn, booked) == "scheduled"
    check_timers(conn=conn, now=ends + p.no_show_grace, policy=p)
    assert _status(conn, booked) == "expired"
    assert history(conn, booked)[-1][5] == "the car did not come to its appointment"
    check_timers(conn=conn, now=datetime.fromisoformat(window), policy=p)
    assert _status(conn, accepted) == "expired"


def test_an_order_nobody_could_match_is_escalated(conn):
    _, order_id = open_order(conn, vin="WLDSP000000000003", home=None)
    created = conn.execute("SELECT created_at FROM service_orders").fetchone()[0]
    p = policy()
    (b,) = check_timers(conn=conn, now=created + p.unmatched_escalation, policy=p)
    assert (b.order_id, b.timer) == (order_id, "unmatched")
    assert get_order(conn=conn, order_id=order_id).escalated


def test_a_scheduled_visit_keeps_its_appointment_fields(conn):
    shops = berlin_shops(conn)
    _, order_id = open_order(conn)
    propose(conn=conn, order_id=order_id, now=T0, policy=policy(mode="auto"))
    owner_confirm(conn=conn, order_id=order_id, now=T0, policy=policy(mode="auto"))
    starts = schedule(conn=conn, order_id=order_id, now=T0, actor="shop")
    slot = conn.execute(
        "SELECT starts_at, ends_at, bay, shop_id FROM shop_slots WHERE order_id = %s", (order_id,)
    ).fetchone()
    order = get_order(conn=conn, order_id=order_id)
    visit = (order.appointment_starts_at, order.appointment_ends_at, order.appointment_bay)
    assert visit == slot[:3] and slot[0] == starts and order.shop_id == slot[3] == shops["A"]
    moved = reschedule(conn=conn, order_id=order_id, now=T0 + MIN, actor="owner")
    assert get_order(conn=conn, order_id=order_id).appointment_starts_at == moved != starts


def test_dismissing_a_bundled_job_takes_it_out_of_the_visit(conn):
    berlin_shops(conn)
    vehicle_id, oil = open_order(conn)
    propose(conn=conn, order_id=oil, now=T0, policy=policy(mode="auto"), consent="auto_book")
    schedule(conn=conn, order_id=oil, now=T0, actor="system:auto-book")
    brakes = brake_order(conn, vehicle_id)
    alert_id = get_order(conn=conn, order_id=brakes).alert_id
    assert dismiss_alert(
        conn=conn, alert_id=alert_id, now=T0 + MIN, actor="owner", reason="measured: fine"
    ) == [brakes]
    left = get_order(conn=conn, order_id=brakes)
    assert (left.status, left.bundle_id, left.appointment_starts_at) == ("cancelled", None, None)
    assert history(conn, brakes)[-2][2:4] == ("scheduled", "cancelled")
    assert _status(conn, oil) == "scheduled"  # the visit goes on for the oil
