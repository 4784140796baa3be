# SPDX-License-Identifier: MIT
"""Alerts become pre-filled service orders at the nearest capable shop, exactly once."""

from datetime import datetime, timedelta

import factories
import pytest
from orders_helpers import BERLIN, haversine_km, vehicle_with_alert
from psycopg.types.json import Jsonb

from orders import OrdersError, create_order_for_alert, list_orders, order_open_alerts
from orders.shops import seed_shops


@pytest.fixture
def shops(conn):
    seed_shops(conn=conn, center_lat=BERLIN[0], center_lon=BERLIN[1])
    return conn.execute("SELECT shop_id, name, lat, lon, capabilities FROM shops").fetchall()


def test_alert_becomes_one_prefilled_order_at_nearest_capable_shop(conn, shops):
    vehicle_id, alert_id = vehicle_with_alert(conn, vin="WLSERV00000000001")
    order_id = create_order_for_alert(conn=conn, alert_id=alert_id)
    assert create_order_for_alert(conn=conn, alert_id=alert_id) == order_id
    assert conn.execute("SELECT count(*) FROM service_orders").fetchone()[0] == 1

    (order,) = list_orders(conn=conn)
    distance, shop_id, name = min(
        (haversine_km(BERLIN, (s[2], s[3])), s[0], s[1]) for s in shops if "oil_change" in s[4]
    )
    assert (order.order_id, order.vehicle_id, order.alert_id) == (order_id, vehicle_id, alert_id)
    assert (order.shop_id, order.shop_name) == (shop_id, name)
    assert order.distance_km == pytest.approx(distance, abs=1e-3)
    assert order.status == "proposed" and order.vin == "WLSERV00000000001"
    assert order.odometer_km == 23_456.7
    assert order.issue == "Oil life 12 %, about 640 km left"
    assert order.job_code == "OIL-CHG" and order.parts[0]["code"] == "OIL-5W30-SYN"
    prediction = order.evidence["prediction"]
    assert prediction["oil_life_pct"] == 12.0 and prediction["remaining_km"] == 640
    assert "state" not in prediction
    events = conn.execute("SELECT status, actor, note FROM service_order_events").fetchall()
    # The nearest shop is a suggestion: the timeline names only shops the order went to.
    note = f"from alert {alert_id}; nearest capable shop {distance:.1f} km away"
    assert events == [("proposed", "system", note)]


def test_dispatch_creates_orders_for_open_alerts_without_one(conn, shops):
    _, first = vehicle_with_alert(conn, vin="WLSERV00000000001")
    _, second = vehicle_with_alert(
        conn,
        vin="WLSERV00000000002",
        kind="brake_pads",
        evidence={"pad_front_mm": 3.9, "pad_rear_mm": 6.0},
    )
    _, resolved = vehicle_with_alert(conn, vin="WLSERV00000000003")
    conn.execute("UPDATE alerts SET status = 'resolved' WHERE alert_id = %s", (resolved,))
    existing = create_order_for_alert(conn=conn, alert_id=first)
    created = order_open_alerts(conn=conn)
    assert len(created) == 1 and existing not in created
    assert order_open_alerts(conn=conn) == []
    assert create_order_for_alert(conn=conn, alert_id=resolved) is None
    assert create_order_for_alert(conn=conn, alert_id=99_999) is None
    (brake_order,) = list_orders(
        conn=conn,
        vehicle_id=conn.execute(
            "SELECT vehicle_id FROM alerts WHERE alert_id = %s", (second,)
        ).fetchone()[0],
    )
    assert brake_order.job_code == "BRK-PAD-F"


def test_vehicle_without_home_gets_an_unmatched_order(conn, shops):
    _, alert_id = vehicle_with_alert(conn, vin="WLSERV00000000004", home=None)
    create_order_for_alert(conn=conn, alert_id=alert_id)
    (order,) = list_orders(conn=conn)
    assert order.shop_id is None and order.distance_km is None


def test_list_orders_filters_and_pages(conn, shops):
    for i in range(5):
        vehicle_with_alert(conn, vin=f"WLSERV0000000001{i}")
    ids = order_open_alerts(conn=conn)
    conn.execute("UPDATE service_orders SET status = 'accepted' WHERE order_id = %s", (ids[0],))
    page1 = list_orders(conn=conn, limit=2)
    page2 = list_orders(conn=conn, limit=2, after_id=page1[-1].order_id)
    page3 = list_orders(conn=conn, limit=2, after_id=page2[-1].order_id)
    assert [o.order_id for o in page1 + page2 + page3] == sorted(ids, reverse=True)
    assert [o.order_id for o in list_orders(conn=conn, status="accepted")] == [ids[0]]
    shop_id = page1[0].shop_id
    assert all(o.shop_id == shop_id for o in list_orders(conn=conn, shop_id=shop_id))
    assert list_orders(conn=conn, shop_id=-1) == []
    with pytest.raises(OrdersError):
        list_orders(conn=conn, limit=1001)


def _raise_tier(conn, vehicle_id, tier, kind="oil_change"):
    return factories.alert(
        conn,
        vehicle_id,
        kind=kind,
        tier=tier,
        severity="critical",
        message="Oil life 4 %",
        evidence={"tier": "due_now"},
    ).alert_id


def test_a_component_gets_one_order_whatever_the_tiers_raised(conn, shops):
    vehicle_id, change_soon = vehicle_with_alert(conn, vin="WLSERV00000000005")
    due_now = _raise_tier(conn, vehicle_id, "due_now")
    # Both tiers open before the dispatcher runs: one order, for the first tier raised.
    (order_id,) = order_open_alerts(conn=conn)
    assert conn.execute(
        "SELECT alert_id FROM service_orders WHERE order_id = %s", (order_id,)
    ).fetchone() == (change_soon,)
    assert create_order_for_alert(conn=conn, alert_id=due_now) == order_id
    # A more severe tier raised later: still that order.
    overdue = _raise_tier(conn, vehicle_id, "overdue")
    assert order_open_alerts(conn=conn) == []
    assert create_order_for_alert(conn=conn, alert_id=overdue) == order_id
    # Another component of the same vehicle gets its own order.
    brakes = _raise_tier(conn, vehicle_id, "change_soon", kind="brake_pads")
    (brake_order,) = order_open_alerts(conn=conn)
    assert brake_order != order_id
    assert create_order_for_alert(conn=conn, alert_id=brakes) == brake_order
    assert conn.execute("SELECT count(*) FROM service_orders").fetchone()[0] == 2
    (order,) = list_orders(conn=conn, vehicle_id=vehicle_id, limit=1, after_id=brake_order)
    assert order.evidence["alert_tier"] == "change_soon"


def test_once_serviced_a_new_tier_gets_a_new_order(conn, shops):
    vehicle_id, first = vehicle_with_alert(conn, vin="WLSERV00000000006")
    (order_id,) = order_open_alerts(conn=conn)
    conn.execute("UPDATE alerts SET status = 'resolved' WHERE alert_id = %s", (first,))
    later = _raise_tier(conn, vehicle_id, "due_now")
    (again,) = order_open_alerts(conn=conn)
    assert again != order_id
    assert create_order_for_alert(conn=conn, alert_id=later) == again


def test_trouble_code_order_carries_what_each_code_means(conn, shops):
    vehicle_id, alert_id = vehicle_with_alert(conn, vin="WLSERV00000000007", kind="trouble_code")
    factories.trouble_codes(conn, vehicle_id, stored=["P0420", "P0301"])
    # As the evaluator writes it (predictive.publish.trouble_code_alerts).
    finding = {"code": "P0301", "description": "Cylinder 1 misfire detected", "urgency": "4"}
    conn.execute(
        "UPDATE alerts SET evidence = %s WHERE alert_id = %s",
        (Jsonb({"tier": "critical", "findings": [finding]}), alert_id),
    )
    create_order_for_alert(conn=conn, alert_id=alert_id)
    (order,) = list_orders(conn=conn)
    assert order.job_code == "DIAG" and order.evidence["trouble_codes"] == ["P0301", "P0420"]
    assert order.evidence["trouble_code_findings"] == [finding]
    assert order.component == "trouble_code" and order.due_by is not None


def test_an_order_is_due_by_the_projected_date_or_by_its_tier(conn, shops):
    vehicle_id, alert_id = vehicle_with_alert(conn, vin="WLSERV00000000008")
    projected = "2026-12-01T06:00:00+00:00"
    conn.execute(
        "UPDATE alerts SET evidence = %s WHERE alert_id = %s",
        (Jsonb({"projection": {"due_now": {"date": projected}}}), alert_id),
    )
    create_order_for_alert(conn=conn, alert_id=alert_id)
    due_now = _raise_tier(conn, vehicle_id, "due_now", kind="brake_pads")
    create_order_for_alert(conn=conn, alert_id=due_now)
    rows = conn.execute(
        "SELECT o.due_by, o.urgency, o.due_by - a.created_at FROM service_orders o "
        "JOIN alerts a USING (alert_id) ORDER BY order_id"
    ).fetchall()
    assert rows[0][:2] == (datetime.fromisoformat(projected), "change_soon")
    assert rows[1][1:] == ("due_now", timedelta(days=3))
