# SPDX-License-Identifier: MIT
"""GET /service-orders: filters, cursor pagination, each order with its shop and job."""

import pytest
from api_order_helpers import raise_oil_alert

from db.registry import create_vehicle
from orders import order_open_alerts, seed_shops


@pytest.fixture
def order_ids(conn):
    """Seven orders from seven oil alerts, oldest first."""
    seed_shops(conn=conn, center_lat=48.137, center_lon=11.575)
    for i in range(7):
        vehicle_id = create_vehicle(
            conn, vin=f"WLAP200000000000{i}", home_lat=48.14, home_lon=11.58
        )
        raise_oil_alert(conn, vehicle_id)
    return order_open_alerts(conn=conn)


def test_orders_page_through_with_cursor(admin_client, order_ids):
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        body = admin_client.get("/service-orders", params=params).json()
        seen += [o["order_id"] for o in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(order_ids, reverse=True) and pages == 3


def test_order_carries_shop_issue_evidence_job_and_parts(admin_client, order_ids):
    (order,) = admin_client.get("/service-orders", params={"limit": 1}).json()["items"]
    assert order["status"] == "proposed" and order["issue"] == "Oil life 12 %"
    assert order["shop"]["name"] and order["shop"]["distance_km"] < 30
    assert order["job"]["code"] == "OIL-CHG"
    assert order["parts"][0] == {
        "code": "OIL-5W30-SYN",
        "description": "Engine oil 5W-30 fully synthetic",
        "quantity": 4.5,
        "unit": "l",
    }
    assert order["evidence"]["prediction"]["oil_life_pct"] == 12
    assert order["created_at"]


def test_orders_filters(conn, admin_client, order_ids):
    conn.execute(
        "UPDATE service_orders SET status = 'accepted' WHERE order_id = %s", (order_ids[2],)
    )
    accepted = admin_client.get("/service-orders", params={"status": "accepted"}).json()["items"]
    assert [o["order_id"] for o in accepted] == [order_ids[2]]
    vehicle_id = accepted[0]["vehicle_id"]
    by_vehicle = admin_client.get("/service-orders", params={"vehicle_id": vehicle_id}).json()
    assert [o["order_id"] for o in by_vehicle["items"]] == [order_ids[2]]
    shop_id = accepted[0]["shop"]["shop_id"]
    by_shop = admin_client.get("/service-orders", params={"shop_id": shop_id}).json()["items"]
    assert by_shop and all(o["shop"]["shop_id"] == shop_id for o in by_shop)


@pytest.mark.parametrize("params", [{"limit": 201}, {"limit": 0}, {"status": "lost"}])
def test_bad_query_is_422(admin_client, params):
    assert admin_client.get("/service-orders", params=params).status_code == 422


def test_foreign_cursor_is_a_problem_details_400(admin_client):
    response = admin_client.get("/service-orders", params={"cursor": "not-ours!"})
    assert response.status_code == 400
    assert response.json()["type"] == "/problems/invalid-cursor"
    assert admin_client.get("/service-orders", params={"limit": 200}).json()["next_cursor"] is None
