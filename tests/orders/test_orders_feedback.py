# SPDX-License-Identifier: MIT
"""The visit and its feedback: service-level timers while it runs, the shop's report reaching
the vehicle's service baseline (and so the predictive models), shop statistics, the survey."""

from datetime import timedelta

import factories
import pytest
from placement_helpers import MIN, T0, berlin_shops, open_order, policy
from pydantic import ValidationError

from orders.errors import IllegalTransition, OrdersError
from orders.feedback import (
    WorkReport,
    answer_survey,
    check_in,
    complete,
    due_surveys,
    start_service,
)
from orders.lifecycle import history
from orders.placement import propose, schedule
from orders.sla import check_timers
from predictive.evaluator import evaluate_vehicle

HOUR = timedelta(hours=1)
REPORT = WorkReport(
    work_done="Oil and filter changed; pads measured",
    parts=[{"code": "OIL-5W30-SYN", "quantity": 4.3, "unit": "l"}],
    cost="142.50",
    odometer_km=23_500.0,
    oil_changed=True,
    pad_front_mm=7.5,
    pad_rear_mm=9.0,
)


def _booked(conn):
    """An order auto-assigned to shop A and booked for T0 + 2 h; (vehicle, order, shops)."""
    shops = berlin_shops(conn)
    vehicle_id, order_id = open_order(conn)
    p = policy(mode="auto")
    propose(conn=conn, order_id=order_id, now=T0, policy=p, consent="auto_book")
    schedule(conn=conn, order_id=order_id, now=T0 + MIN, actor="shop")
    return vehicle_id, order_id, shops


def _served(conn, at):
    vehicle_id, order_id, shops = _booked(conn)
    check_in(conn=conn, order_id=order_id, now=at, actor="shop")
    start_service(conn=conn, order_id=order_id, now=at + MIN, actor="shop")
    return vehicle_id, order_id, shops


def test_completion_resets_the_service_baseline_the_models_start_from(conn):
    vehicle_id, order_id, shops = _served(conn, T0 + 2 * HOUR)
    done = T0 + 3 * HOUR
    complete(conn=conn, order_id=order_id, now=done, report=REPORT, actor="shop")
    vehicle = conn.execute(
        "SELECT oil_changed_at, oil_changed_odometer_km, pads_measured_at, pad_front_mm, "
        "pad_rear_mm, pads_measured_odometer_km FROM vehicles WHERE vehicle_id = %s",
        (vehicle_id,),
    ).fetchone()
    assert vehicle == (done, 23_500.0, done, 7.5, 9.0, 23_500.0)
    assert conn.execute(
        "SELECT count(*) FROM alerts WHERE vehicle_id = %s AND status <> 'resolved'",
        (vehicle_id,),
    ).fetchone() == (0,)
    shop = conn.execute(
        "SELECT jobs_completed, jobs_on_time, on_time_rate FROM shops WHERE shop_id = %s",
        (shops["A"],),
    ).fetchone()
    assert shop == (1, 1, 1.0)
    report = conn.execute("SELECT cost::float, on_time FROM service_reports").fetchone()
    assert report == (142.5, True)
    # The evaluator continues from the shop's baseline: the old prediction's totals are not
    # carried over, so the new one starts at the odometer and pads the shop measured.
    predictions = evaluate_vehicle(conn=conn, vehicle_id=vehicle_id, now=done + HOUR)
    assert predictions == []  # no readings since the service: nothing to advance yet


def _sample_alert(conn, vehicle_id):
    factories.alert(
        conn,
        vehicle_id,
        kind="oil_sample",
        tier="sample",
        severity="info",
        message="have an oil sample analysed",
    )


def _open_kinds(conn, vehicle_id):
    rows = conn.execute(
        "SELECT kind FROM alerts WHERE vehicle_id = %s AND status <> 'resolved' ORDER BY kind",
        (vehicle_id,),
    )
    return [r[0] for r in rows]


def test_a_drawn_oil_sample_resolves_the_request_and_nothing_else(conn):
    vehicle_id, order_id, _ = _served(conn, T0 + 2 * HOUR)
    _sample_alert(conn, vehicle_id)
    before = _open_kinds(conn, vehicle_id)
    assert "oil_sample" in before and len(before) >= 2  # the order's own alert too
    sampled = WorkReport(work_done="Oil sample drawn for the lab", cost="35.00", oil_sampled=True)
    complete(conn=conn, order_id=order_id, now=T0 + 3 * HOUR, report=sampled, actor="shop")
    assert _open_kinds(conn, vehicle_id) == [k for k in before if k != "oil_sample"]
    # No oil change: the interval (and the models' baseline) goes on.
    changed = conn.execute(
        "SELECT oil_changed_at FROM vehicles WHERE vehicle_id = %s", (vehicle_id,)
    ).fetchone()[0]
    assert changed is None or changed < T0


def test_an_oil_change_ends_the_interval_and_its_sample_request(conn):
    vehicle_id, order_id, _ = _served(conn, T0 + 2 * HOUR)
    _sample_alert(conn, vehicle_id)
    complete(conn=conn, order_id=order_id, now=T0 + 3 * HOUR, report=REPORT, actor="shop")
    assert _open_kinds(conn, vehicle_id) == []


def test_late_completion_lowers_the_on_time_rate(conn):
    _, order_id, shops = _served(conn, T0 + 2 * HOUR)
    late = T0 + 5 * HOUR  # the 10:00-12:00 slot ended at 12:00
    complete(conn=conn, order_id=order_id, now=late, report=REPORT, actor="shop")
    row = conn.execute(
        "SELECT jobs_on_time, on_time_rate FROM shops WHERE shop_id = %s", (shops["A"],)
    ).fetchone()
    assert row == (0, 0.0)


def test_reports_must_be_complete_and_only_orders_in_service_complete(conn):
    with pytest.raises(ValidationError, match="odometer"):
        WorkReport(work_done="oil", cost=10, oil_changed=True)
    with pytest.raises(ValidationError, match="both axles"):
        WorkReport(work_done="pads", cost=10, odometer_km=1, pad_front_mm=5)
    _, order_id, _ = _booked(conn)
    with pytest.raises(IllegalTransition):
        complete(conn=conn, order_id=order_id, now=T0, report=REPORT, actor="shop")
    assert conn.execute("SELECT count(*) FROM service_reports").fetchone() == (0,)


def test_survey_a_day_later_feeds_the_shop_quality(conn):
    _, order_id, shops = _served(conn, T0 + 2 * HOUR)
    done = T0 + 3 * HOUR
    complete(conn=conn, order_id=order_id, now=done, report=REPORT, actor="shop")
    assert due_surveys(conn=conn, now=done + 23 * HOUR) == []
    with pytest.raises(OrdersError):
        answer_survey(conn=conn, order_id=order_id, score=9, now=done + HOUR)
    assert due_surveys(conn=conn, now=done + 24 * HOUR) == [order_id]
    with pytest.raises(OrdersError):
        answer_survey(conn=conn, order_id=order_id, score=11, now=done + 25 * HOUR)
    answer_survey(conn=conn, order_id=order_id, score=9, now=done + 25 * HOUR)
    with pytest.raises(OrdersError):  # answered once
        answer_survey(conn=conn, order_id=order_id, score=2, now=done + 26 * HOUR)
    shop = conn.execute(
        "SELECT survey_count, survey_mean FROM shops WHERE shop_id = %s", (shops["A"],)
    ).fetchone()
    assert shop == (1, 9.0)
    assert history(conn, order_id)[-1][1:] == (
        "feedback",
        None,
        "completed",
        "owner",
        "recommendation 9/10",
    )


def test_appointment_confirmation_breach_escalates_once(conn):
    berlin_shops(conn)
    _, order_id = open_order(conn)
    p = policy(mode="auto", appointment_confirmation=timedelta(hours=4))
    propose(conn=conn, order_id=order_id, now=T0, policy=p, consent="auto_book")
    assert check_timers(conn=conn, now=T0 + 3 * HOUR, policy=p) == []
    (breach,) = check_timers(conn=conn, now=T0 + 4 * HOUR, policy=p)
    assert breach.timer == "appointment_confirmation"
    assert check_timers(conn=conn, now=T0 + 5 * HOUR, policy=p) == []
    escalated = conn.execute(
        "SELECT escalated FROM service_orders WHERE order_id = %s", (order_id,)
    ).fetchone()
    assert escalated == (True,)
    assert [e[1] for e in history(conn, order_id)][-2:] == ["sla_breach", "escalation"]


def test_overdue_in_service_is_a_breach(conn):
    _, order_id, _ = _served(conn, T0 + 2 * HOUR)
    p = policy()
    # The booked slot is 10:00-12:00.
    assert check_timers(conn=conn, now=T0 + 4 * HOUR - MIN, policy=p) == []
    (breach,) = check_timers(conn=conn, now=T0 + 4 * HOUR, policy=p)
    assert (breach.order_id, breach.timer) == (order_id, "in_service_overdue")
    assert breach.due_at == T0 + 4 * HOUR


def test_a_proposal_the_owner_never_confirms_expires_at_its_due_date(conn):
    berlin_shops(conn)
    _, order_id = open_order(conn)
    p = policy()
    propose(conn=conn, order_id=order_id, now=T0, policy=p)
    due = conn.execute(
        "SELECT due_by FROM service_orders WHERE order_id = %s", (order_id,)
    ).fetchone()[0]
    check_timers(conn=conn, now=due - MIN, policy=p)
    assert conn.execute("SELECT status FROM service_orders").fetchone() == ("proposed",)
    check_timers(conn=conn, now=due, policy=p)
    assert conn.execute("SELECT status FROM service_orders").fetchone() == ("expired",)
