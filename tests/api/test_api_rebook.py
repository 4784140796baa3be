# SPDX-License-Identifier: MIT
"""Rebooking a cancelled order, dismissing an alert, and the appointment on the order,
through the API."""

from api_order_helpers import oil_alert
from test_api_order_flow import _shops

from orders.service import order_open_alerts

OPEN = {"proposed", "offered", "accepted", "scheduled", "checked_in", "in_service"}


def test_a_cancelled_order_is_rebooked_and_a_standing_one_is_not(conn, admin_client):
    _shops(conn)
    oil_alert(conn, "WLREB000000000001")
    (order_id,) = order_open_alerts(conn=conn)
    standing = admin_client.post(f"/service-orders/{order_id}/rebook")
    assert standing.status_code == 409, standing.text
    problem = standing.json()
    assert problem["type"] == "/problems/not-rebookable" and "cancel" in problem["detail"]
    cancelled = admin_client.post(f"/service-orders/{order_id}/cancel", json={"reason": "away"})
    assert cancelled.json()["status"] == "cancelled"
    rebooked = admin_client.post(f"/service-orders/{order_id}/rebook")
    assert rebooked.status_code == 201, rebooked.text
    new = rebooked.json()
    assert new["order_id"] != order_id and new["status"] in OPEN
    assert (new["alert_id"], new["component"]) == (
        cancelled.json()["alert_id"],
        cancelled.json()["component"],
    )
    old = admin_client.get(f"/service-orders/{order_id}").json()
    assert old["events"][-1]["kind"] == "rebook"


def test_dismissing_an_alert_needs_a_reason_and_cancels_its_order(conn, admin_client):
    _shops(conn)
    oil_alert(conn, "WLREB000000000002")
    (order_id,) = order_open_alerts(conn=conn)
    alert_id = admin_client.get(f"/service-orders/{order_id}").json()["alert_id"]
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        refused = admin_client.post(f"/alerts/{alert_id}/dismiss", json=body)
        assert refused.status_code == 422, refused.text
    done = admin_client.post(f"/alerts/{alert_id}/dismiss", json={"reason": "sold the car"})
    assert done.status_code == 200, done.text
    assert done.json() == {
        "alert_id": alert_id,
        "status": "resolved",
        "dismissed_reason": "sold the car",
        "cancelled_orders": [order_id],
    }
    assert admin_client.get(f"/service-orders/{order_id}").json()["status"] == "cancelled"
    again = admin_client.post(f"/alerts/{alert_id}/dismiss", json={"reason": "again"})
    assert again.status_code == 409 and again.json()["type"] == "/problems/not-rebookable"
    missing = admin_client.post("/alerts/999999/dismiss", json={"reason": "x"})
    assert missing.status_code == 404 and missing.json()["type"] == "/problems/alert-not-found"
    rebook = admin_client.post(f"/service-orders/{order_id}/rebook")
    assert rebook.status_code == 409 and "resolved" in rebook.json()["detail"]


def test_the_appointment_is_a_field_of_the_order(conn, admin_client):
    _shops(conn)
    oil_alert(conn, "WLREB000000000003")
    (order_id,) = order_open_alerts(conn=conn)
    base = f"/service-orders/{order_id}"
    admin_client.post(f"{base}/propose", json={"mode": "auto", "consent": "auto_book"})
    before = admin_client.get(base).json()
    assert before["status"] == "accepted" and before["appointment"] is None
    booked = admin_client.post(f"{base}/schedule").json()
    slot = conn.execute(
        "SELECT starts_at, ends_at, bay, shop_id FROM shop_slots WHERE order_id = %s", (order_id,)
    ).fetchone()
    visit = booked["appointment"]
    assert visit["shop_id"] == slot[3] == booked["shop"]["shop_id"] and visit["bay"] == slot[2]
    assert visit["starts_at"].replace("Z", "+00:00") == slot[0].isoformat()
    assert visit["duration_h"] == 1.0
    held = [e for e in booked["events"] if e["status"] in ("accepted", "scheduled")]
    assert held and all(e["shop_id"] == slot[3] for e in held)
    cancelled = admin_client.post(f"{base}/cancel", json={"reason": "x"}).json()
    assert cancelled["appointment"] is None
