# SPDX-License-Identifier: MIT
"""Jobs due for one car within a window become one visit, whenever the second job arrives;
and the timeline of an order never names a shop the order did not go to."""

import factories
from orders_helpers import NOW, vehicle_with_alert
from placement_helpers import MIN, T0, berlin_shops, brake_order, open_order, policy

from orders.feedback import check_in
from orders.lifecycle import history
from orders.offers import respond
from orders.placement import propose, schedule
from orders.service import get_order, order_open_alerts


def _visit(conn, order_id):
    o = get_order(conn=conn, order_id=order_id)
    return (o.status, o.shop_id, o.appointment_starts_at, o.appointment_bay)


def test_a_job_arriving_after_the_visit_was_booked_joins_it(conn):
    shops = berlin_shops(conn)
    vehicle_id, oil = open_order(conn)
    propose(conn=conn, order_id=oil, now=T0, policy=policy(mode="auto"), consent="auto_book")
    schedule(conn=conn, order_id=oil, now=T0, actor="system:auto-book")
    brakes = brake_order(conn, vehicle_id)  # the pads alert comes later, due the same week
    assert get_order(conn=conn, order_id=brakes).bundle_id == oil
    assert _visit(conn, brakes) == _visit(conn, oil)
    assert _visit(conn, oil)[:2] == ("scheduled", shops["A"])
    assert "joins the visit of order" in history(conn, brakes)[-1][5]
    # One visit: checking the car in moves both jobs.
    check_in(conn=conn, order_id=oil, now=T0 + MIN, actor="shop")
    assert get_order(conn=conn, order_id=brakes).status == "checked_in"


def test_a_job_the_booked_shop_cannot_do_is_matched_by_itself(conn):
    berlin_shops(conn, capabilities=("oil_change",))
    vehicle_id, oil = open_order(conn)
    propose(conn=conn, order_id=oil, now=T0, policy=policy(mode="auto"), consent="auto_book")
    brakes = brake_order(conn, vehicle_id)
    order = get_order(conn=conn, order_id=brakes)
    assert (order.bundle_id, order.status) == (None, "proposed")


def test_a_job_arriving_while_the_first_is_offered_joins_the_offer(conn):
    berlin_shops(conn)
    vehicle_id, oil = open_order(conn)
    propose(conn=conn, order_id=oil, now=T0, policy=policy(mode="broadcast"), consent="auto_book")
    brakes = brake_order(conn, vehicle_id)
    assert get_order(conn=conn, order_id=brakes).status == "offered"
    offer_id = conn.execute(
        "SELECT offer_id FROM service_offers WHERE order_id = %s ORDER BY rank LIMIT 1", (oil,)
    ).fetchone()[0]
    respond(conn=conn, offer_id=offer_id, accept=True, now=T0 + MIN, policy=policy())
    assert get_order(conn=conn, order_id=brakes).status == "accepted"


def test_a_job_arriving_before_the_owner_confirmed_is_matched_with_the_first(conn):
    berlin_shops(conn, capabilities=("oil_change", "brake_pads"))
    vehicle_id, oil = open_order(conn)
    propose(conn=conn, order_id=oil, now=T0, policy=policy())
    brakes = brake_order(conn, vehicle_id)
    assert get_order(conn=conn, order_id=brakes).bundle_id == oil
    # The first ranking covered the oil only; the visit is ranked again for both jobs.
    assert get_order(conn=conn, order_id=oil).match is None
    propose(conn=conn, order_id=oil, now=T0, policy=policy())
    assert get_order(conn=conn, order_id=oil).match["request"]["jobs"] == ["OIL-CHG", "BRK-PAD-F"]


def test_two_alerts_dispatched_in_one_run_become_one_visit_in_either_order(conn):
    berlin_shops(conn)
    vehicle_id, _ = vehicle_with_alert(conn, vin="WLBND000000000001", kind="brake_pads")
    factories.alert(conn, vehicle_id, created_at=NOW)
    pads, oil = order_open_alerts(conn=conn, now=NOW)
    assert get_order(conn=conn, order_id=oil).bundle_id == pads


def test_the_timeline_of_a_broadcast_order_names_only_shops_it_went_to(conn):
    shops = berlin_shops(conn)
    _, order_id = open_order(conn)
    p = policy(mode="broadcast", k=3)
    propose(conn=conn, order_id=order_id, now=T0, policy=p, consent="auto_book")
    offers = dict(
        conn.execute(
            "SELECT shop_id, offer_id FROM service_offers WHERE order_id = %s", (order_id,)
        ).fetchall()
    )
    assert set(offers) == {shops["A"], shops["B"], shops["C"]}
    # B answers first and wins; A, the best ranked, lost the order.
    respond(conn=conn, offer_id=offers[shops["B"]], accept=True, now=T0 + MIN, policy=p)
    schedule(conn=conn, order_id=order_id, now=T0 + MIN, actor=f"shop:{shops['B']}")
    events = conn.execute(
        "SELECT kind, status, shop_id, note FROM service_order_events WHERE order_id = %s "
        "ORDER BY at, id",
        (order_id,),
    ).fetchall()
    named = {shop_id for _, _, shop_id, _ in events if shop_id is not None}
    assert named == {shops["B"]}, events
    held = [e for e in events if e[1] in ("accepted", "scheduled")]
    assert held and all(e[2] == shops["B"] for e in held)
    names_in_notes = {n for n in shops if any(f" {n}," in f" {e[3]}," for e in events if e[3])}
    assert names_in_notes <= {"A", "B", "C"}, events
    # The nearest shop (A) is not named as if the order had gone to it.
    assert "A" not in (events[0][3] or "").split()
