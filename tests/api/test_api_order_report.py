# SPDX-License-Identifier: MIT
"""A shop's report through the API: a reading that cannot be true is a 422 problem detail,
a completed oil change shows in the owner's health at once, and the labour, technician and
parts' batch numbers come back in the service history."""

import datetime as dt

import factories
from api_order_helpers import oil_alert
from test_api_order_flow import _shops

from orders.service import order_open_alerts


def _in_service(conn, client):
    _shops(conn)
    vehicle_id = oil_alert(conn, "WLAPR000000000001")
    factories.vehicle_state(
        conn, vehicle_id, last_seen=dt.datetime.now(dt.UTC), odometer_km=79437.9
    )
    (order_id,) = order_open_alerts(conn=conn)
    base = f"/service-orders/{order_id}"
    client.post(f"{base}/propose", json={"mode": "auto", "consent": "auto_book"})
    for step in ("schedule", "check-in", "start"):
        assert client.post(f"{base}/{step}").status_code == 200
    return vehicle_id, base


def test_an_impossible_odometer_is_a_422_that_says_why(conn, admin_client):
    _, base = _in_service(conn, admin_client)
    report = {"work_done": "Oil changed", "cost": "89", "odometer_km": 63200, "oil_changed": True}
    res = admin_client.post(f"{base}/complete", json=report)
    assert res.status_code == 422, res.text
    problem = res.json()
    assert problem["type"] == "/problems/implausible-report"
    assert "63,200.0 km is below the car's last known 79,437.9 km" in problem["detail"]
    assert admin_client.get(base).json()["status"] == "in_service"


def test_the_health_shows_a_completed_oil_change_at_once(conn, admin_client):
    vehicle_id, base = _in_service(conn, admin_client)
    before = admin_client.get(f"/vehicles/{vehicle_id}/health").json()["oil"]
    assert before["band"] == "due_soon"
    report = {"work_done": "Oil changed", "cost": "89", "odometer_km": 79440, "oil_changed": True}
    assert admin_client.post(f"{base}/complete", json=report).status_code == 200
    health = admin_client.get(f"/vehicles/{vehicle_id}/health").json()
    assert (health["oil"]["oil_life_pct"], health["oil"]["band"]) == (100.0, "good")
    assert [a for a in health["open_alerts"] if a["kind"] == "oil_change"] == []


def test_labour_technician_and_batch_numbers_come_back_in_the_service_history(conn, admin_client):
    vehicle_id, base = _in_service(conn, admin_client)
    part = {"part": "Oil filter", "part_number": "OX 388D", "batch": "B-4471", "quantity": 1}
    report = {
        "work_done": "Filter changed",
        "cost": "12.50",
        "parts": [part],
        "labour_h": 0.3,
        "technician": "Jana Weber",
    }
    assert admin_client.post(f"{base}/complete", json=report).status_code == 200
    (record,) = admin_client.get(f"/vehicles/{vehicle_id}/service-history").json()["items"]
    assert record["parts"] == [part]
    assert (record["labour_h"], record["technician"]) == (0.3, "Jana Weber")
    # A name, when given, is not empty (refused before the order is looked at).
    nameless = admin_client.post(f"{base}/complete", json=report | {"technician": ""})
    assert nameless.status_code == 422
