# SPDX-License-Identifier: MIT
"""A completed service shows in the car's health at once, and a report that cannot be true is
refused with the reason (real PostgreSQL)."""

from datetime import timedelta

import pytest
from placement_helpers import MIN, T0, berlin_shops, open_order, policy

from orders.errors import ImplausibleReport
from orders.feedback import WorkReport, check_in, complete, start_service
from orders.placement import propose, schedule
from predictive.health import latest_predictions, oil_band, pad_band

HOUR = timedelta(hours=1)


def _in_service(conn, odometer_km=79_437.9):
    shops = berlin_shops(conn)
    vehicle_id, order_id = open_order(conn, odometer_km=odometer_km)
    propose(conn=conn, order_id=order_id, now=T0, policy=policy(mode="auto"), consent="auto_book")
    schedule(conn=conn, order_id=order_id, now=T0 + MIN, actor=f"shop:{shops['A']}")
    check_in(conn=conn, order_id=order_id, now=T0 + 2 * HOUR, actor="shop")
    start_service(conn=conn, order_id=order_id, now=T0 + 2 * HOUR + MIN, actor="shop")
    return vehicle_id, order_id


def _report(**extra):
    fields = {"work_done": "Oil changed; pads measured", "cost": "142.50"} | extra
    return WorkReport.model_validate(fields)


def test_an_oil_change_and_measured_pads_show_in_the_health_at_once(conn):
    vehicle_id, order_id = _in_service(conn)
    assert latest_predictions(conn=conn, vehicle_id=vehicle_id)["oil_life"].value == 12.0
    done = T0 + 3 * HOUR
    report = _report(odometer_km=79_440.0, oil_changed=True, pad_front_mm=7.5, pad_rear_mm=9.0)
    complete(conn=conn, order_id=order_id, now=done, report=report, actor="shop")
    latest = latest_predictions(conn=conn, vehicle_id=vehicle_id)
    oil, pads = latest["oil_life"], latest["brake_pads"]
    assert (oil.time, oil.value, oil_band(oil.value)) == (done, 100.0, "good")
    # The model restarted from the change: nothing driven since, counted from that baseline.
    assert oil.evidence["km_since_oil_change"] == 0.0
    assert oil.evidence["baseline_s"] == done.timestamp()
    assert (pads.evidence["pad_front_mm"], pads.evidence["pad_rear_mm"]) == (7.5, 9.0)
    assert pad_band(pads.value) == "good"
    open_alerts = conn.execute(
        "SELECT count(*) FROM alerts WHERE vehicle_id = %s AND status <> 'resolved'",
        (vehicle_id,),
    ).fetchone()
    assert open_alerts == (0,)


def test_an_oil_change_alone_leaves_the_pad_model_as_it_was(conn):
    vehicle_id, order_id = _in_service(conn)
    report = _report(odometer_km=79_440.0, oil_changed=True)
    complete(conn=conn, order_id=order_id, now=T0 + 3 * HOUR, report=report, actor="shop")
    assert set(latest_predictions(conn=conn, vehicle_id=vehicle_id)) == {"oil_life"}


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (
            {"odometer_km": 63_200.0, "oil_changed": True},
            r"below the car's last known 79,437\.9 km",
        ),
        (
            {"odometer_km": 79_500.0, "pad_front_mm": 14.0, "pad_rear_mm": 9.0},
            r"front pads measured 14\.0 mm, thicker than a new pad",
        ),
        (
            {"odometer_km": 79_500.0, "pad_front_mm": 8.0, "pad_rear_mm": 12.5},
            "rear pads measured 12.5 mm",
        ),
    ],
)
def test_a_report_that_cannot_be_true_is_refused_with_the_reason(conn, fields, reason):
    _, order_id = _in_service(conn)
    with pytest.raises(ImplausibleReport, match=reason):
        complete(
            conn=conn, order_id=order_id, now=T0 + 3 * HOUR, report=_report(**fields), actor="s"
        )
    status = conn.execute(
        "SELECT status FROM service_orders WHERE order_id = %s", (order_id,)
    ).fetchone()
    assert status == ("in_service",)
    assert conn.execute("SELECT count(*) FROM service_reports").fetchone() == (0,)


def test_an_earlier_service_odometer_counts_as_known(conn):
    vehicle_id, order_id = _in_service(conn, odometer_km=None)
    conn.execute(
        "UPDATE vehicles SET oil_changed_odometer_km = 70000 WHERE vehicle_id = %s", (vehicle_id,)
    )
    with pytest.raises(ImplausibleReport, match=r"below the car's last known 70,000\.0 km"):
        complete(
            conn=conn,
            order_id=order_id,
            now=T0 + 3 * HOUR,
            report=_report(odometer_km=60_000.0, oil_changed=True),
            actor="shop",
        )
