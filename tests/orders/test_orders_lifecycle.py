# SPDX-License-Identifier: MIT
"""The order state machine: legal steps recorded, illegal ones refused, one open order per
vehicle and component, bundled jobs travelling together."""

import psycopg
import pytest
from orders_helpers import vehicle_with_alert
from placement_helpers import MIN, T0, berlin_shops, brake_order, open_order, policy

from orders.errors import IllegalTransition, OrderNotFound
from orders.lifecycle import ALLOWED_FROM, TERMINAL, history, transition
from orders.placement import propose, schedule
from orders.service import create_order_for_alert
from orders.sla import check_timers


def test_every_transition_is_recorded_with_who_when_and_why(conn):
    _, order_id = open_order(conn)
    transition(conn, order_id=order_id, to="offered", actor="system", reason="why 1", now=T0)
    transition(conn, order_id=order_id, to="accepted", actor="shop:7", reason="ok", now=T0 + MIN)
    events = history(conn, order_id)[1:]
    assert [(e[0], e[2], e[3], e[4], e[5]) for e in events] == [
        (T0, "proposed", "offered", "system", "why 1"),
        (T0 + MIN, "offered", "accepted", "shop:7", "ok"),
    ]
    status = conn.execute("SELECT status FROM service_orders").fetchone()[0]
    assert status == "accepted"


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ((), "scheduled"),
        ((), "completed"),
        (("offered",), "checked_in"),
        (("accepted", "scheduled"), "accepted"),
        (("cancelled",), "offered"),
        (("declined",), "accepted"),
    ],
)
def test_illegal_transitions_are_refused_and_change_nothing(conn, path, illegal):
    _, order_id = open_order(conn)
    for step in path:
        transition(conn, order_id=order_id, to=step, actor="t", reason="", now=T0)
    before = len(history(conn, order_id))
    with pytest.raises(IllegalTransition) as info:
        transition(conn, order_id=order_id, to=illegal, actor="t", reason="", now=T0)
    assert (info.value.current, info.value.target) == ((path or ("proposed",))[-1], illegal)
    assert len(history(conn, order_id)) == before


def test_terminal_states_have_no_way_out_and_unknown_orders_are_named(conn):
    assert not any(t in sources for sources in ALLOWED_FROM.values() for t in TERMINAL)
    with pytest.raises(OrderNotFound):
        transition(conn, order_id=999, to="offered", actor="t", reason="", now=T0)
    with pytest.raises(ValueError):
        transition(conn, order_id=999, to="lost", actor="t", reason="", now=T0)


def test_one_open_order_per_vehicle_and_component_is_enforced_by_the_database(conn):
    _, order_id = open_order(conn)
    insert = (
        "INSERT INTO service_orders (vehicle_id, vin, issue, job_code, job_description, "
        "component) SELECT vehicle_id, vin, 'again', 'OIL-CHG', 'x', 'oil_change' "
        "FROM service_orders WHERE order_id = %s"
    )
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute(insert, (order_id,))
    transition(conn, order_id=order_id, to="cancelled", actor="owner", reason="sold", now=T0)
    conn.execute(insert, (order_id,))  # a closed order no longer counts


def test_concurrent_creation_for_one_alert_makes_one_order(db_url, conn):
    _, alert_id = vehicle_with_alert(conn, vin="WLDSP000000000009")
    import threading

    barrier, results = threading.Barrier(4), []

    def create():
        with psycopg.connect(db_url, autocommit=True) as own:
            barrier.wait()
            results.append(create_order_for_alert(conn=own, alert_id=alert_id))

    threads = [threading.Thread(target=create) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and None not in results
    assert conn.execute("SELECT count(*) FROM service_orders").fetchone()[0] == 1


def test_jobs_due_in_the_same_window_are_bundled_into_one_visit(conn):
    shops = berlin_shops(conn)
    vehicle_id, oil = open_order(conn)
    brakes = brake_order(conn, vehicle_id)
    bundle = conn.execute(
        "SELECT order_id, bundle_id, component FROM service_orders ORDER BY order_id"
    ).fetchall()
    assert bundle == [(oil, None, "oil_change"), (brakes, oil, "brake_pads")]
    ranked = propose(conn=conn, order_id=oil, now=T0, policy=policy(mode="auto"))
    match = conn.execute("SELECT match, estimate FROM service_orders WHERE order_id = %s", (oil,))
    match, estimate = match.fetchone()
    assert match["request"]["jobs"] == ["OIL-CHG", "BRK-PAD-F"]
    assert set(match["request"]["capabilities"]) == {"oil_change", "brake_pads"}
    # Shop A lists both jobs: 100 + 200; the estimate covers the whole visit.
    assert ranked[0]["shop_id"] == shops["A"] and estimate["total"] == 300.0
    after_propose = conn.execute(
        "SELECT order_id, status, shop_id FROM service_orders ORDER BY order_id"
    ).fetchall()
    assert after_propose == [(oil, "proposed", shops["A"]), (brakes, "proposed", shops["A"])]


def test_bundled_orders_follow_their_lead(conn):
    shops = berlin_shops(conn)
    vehicle_id, oil = open_order(conn)
    brakes = brake_order(conn, vehicle_id)
    p = policy(mode="auto")
    propose(conn=conn, order_id=oil, now=T0, policy=p, consent="auto_book")
    # One visit, one deadline: the late confirmation is the lead's breach only.
    late = check_timers(conn=conn, now=T0 + p.appointment_confirmation, policy=p)
    assert [b.order_id for b in late] == [oil]
    schedule(conn=conn, order_id=oil, now=T0 + MIN, actor=f"shop:{shops['A']}")
    rows = conn.execute(
        "SELECT order_id, status, shop_id, slot_id IS NOT NULL FROM service_orders "
        "ORDER BY order_id"
    ).fetchall()
    assert rows == [(oil, "scheduled", shops["A"], True), (brakes, "scheduled", shops["A"], True)]
    assert "bundled with order" in history(conn, brakes)[-1][5]
