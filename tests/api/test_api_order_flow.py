# SPDX-License-Identifier: MIT
"""An order's whole life through the API: propose, broadcast, the race's loser, the visit,
the report, and the errors as problem details."""

from api_order_helpers import oil_alert, oil_shops

from orders.service import order_open_alerts


def _shops(conn):
    oil_shops(conn, dict.fromkeys(("Near", "Mid", "Far"), 120.0))


def test_order_lifecycle_through_the_api(conn, admin_client):
    _shops(conn)
    oil_alert(conn, "WLAPF000000000001")
    (order_id,) = order_open_alerts(conn=conn)
    base = f"/service-orders/{order_id}"
    body = admin_client.post(
        f"{base}/propose", json={"mode": "broadcast", "consent": "auto_book", "k": 2}
    ).json()
    assert body["status"] == "offered" and body["dispatch_mode"] == "broadcast"
    assert [r["name"] for r in body["match"]["ranked"]][:2] == ["Near", "Mid"]
    assert body["estimate"] == {"total": 120.0, "currency": "EUR", "jobs": ["OIL-CHG"]}
    first, second = body["offers"]
    won = admin_client.post(f"{base}/offers/{second['offer_id']}/accept").json()
    assert won["status"] == "accepted" and won["shop"]["shop_id"] == second["shop_id"]
    lost = admin_client.post(f"{base}/offers/{first['offer_id']}/accept")
    assert lost.status_code == 409 and lost.json()["type"] == "/problems/offer-lost"
    assert admin_client.post(f"{base}/check-in").json()["type"] == "/problems/illegal-transition"
    for step, status in [
        ("schedule", "scheduled"),
        ("check-in", "checked_in"),
        ("start", "in_service"),
    ]:
        response = admin_client.post(f"{base}/{step}")
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status
    report = {
        "work_done": "Oil changed",
        "cost": "119.90",
        "odometer_km": 23500,
        "oil_changed": True,
    }
    done = admin_client.post(f"{base}/complete", json=report).json()
    assert done["status"] == "completed"
    assert [e["status"] for e in done["events"] if e["kind"] == "transition"][-1] == "completed"
    early = admin_client.post(f"{base}/survey", json={"score": 9})
    assert early.status_code == 409 and early.json()["type"] == "/problems/order-refused"
    assert admin_client.post(f"{base}/survey", json={"score": 11}).status_code == 422
    oil = conn.execute("SELECT oil_changed_odometer_km FROM vehicles").fetchone()
    assert oil == (23500.0,)


def test_unknown_orders_and_offers_are_404(admin_client, conn):
    assert admin_client.get("/service-orders/999").json()["type"] == "/problems/order-not-found"
    assert admin_client.post("/service-orders/999/offers/1/accept").status_code == 404
    # A step that does not exist: the order is checked first, so a missing one is 404.
    assert admin_client.post("/service-orders/999/teleport").status_code == 404
    oil_alert(conn, "WLAPF000000000009")
    (order_id,) = order_open_alerts(conn=conn)
    assert admin_client.post(f"/service-orders/{order_id}/teleport").status_code == 422
    assert admin_client.get("/service-orders/999/slots").status_code == 404


def test_owner_confirms_another_shop_or_cancels(conn, admin_client):
    _shops(conn)
    oil_alert(conn, "WLAPF000000000002")
    (order_id,) = order_open_alerts(conn=conn)
    base = f"/service-orders/{order_id}"
    proposed = admin_client.post(f"{base}/propose", json={"mode": "sequential"}).json()
    assert proposed["status"] == "proposed" and proposed["offers"] == []
    far = proposed["match"]["ranked"][-1]["shop_id"]
    offered = admin_client.post(f"{base}/confirm", json={"shop_id": far}).json()
    assert [o["shop_id"] for o in offered["offers"]] == [far]
    cancelled = admin_client.post(f"{base}/cancel", json={"reason": "sold the car"}).json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["events"][-1]["note"] == "sold the car"
    assert cancelled["offers"][0]["response"] == "withdrawn"


def test_a_shop_sees_its_pending_offers_and_statistics(conn, admin_client):
    _shops(conn)
    oil_alert(conn, "WLAPF000000000003")
    (order_id,) = order_open_alerts(conn=conn)
    body = admin_client.post(
        f"/service-orders/{order_id}/propose",
        json={"mode": "sequential", "consent": "auto_book"},
    ).json()
    (offer,) = body["offers"]
    pending = admin_client.get(f"/shops/{offer['shop_id']}/offers").json()
    assert [(p["offer_id"], p["order_id"]) for p in pending] == [(offer["offer_id"], order_id)]
    assert pending[0]["job_code"] == "OIL-CHG" and pending[0]["issue"] == "Oil life 12 %"
    other = body["match"]["ranked"][1]["shop_id"]
    assert admin_client.get(f"/shops/{other}/offers").json() == []
    admin_client.post(f"/service-orders/{order_id}/offers/{offer['offer_id']}/decline")
    shop = admin_client.get(f"/shops/{offer['shop_id']}").json()
    assert shop["name"] == "Near" and shop["response_median_s"] is not None
    assert admin_client.get(f"/shops/{other}/offers").json()[0]["order_id"] == order_id
    assert admin_client.get("/shops/999").json()["type"] == "/problems/shop-not-found"
    assert admin_client.get("/shops/999/offers").status_code == 404


def test_a_shops_profile_has_its_hours_prices_and_free_slots(conn, admin_client):
    _shops(conn)
    shop_id = conn.execute("SELECT shop_id FROM shops WHERE name = 'Near'").fetchone()[0]
    profile = admin_client.get(f"/shops/{shop_id}").json()
    assert profile["prices"] == [{"job_code": "OIL-CHG", "price": 120.0, "labour_h": None}]
    assert profile["hours"]["mon"] == [["00:00", "23:00"]] and profile["currency"] == "EUR"
    slots = admin_client.get(f"/shops/{shop_id}/slots", params={"days": 2, "limit": 5}).json()
    assert 0 < len(slots) <= 5
    starts = [s["starts_at"] for s in slots]
    assert starts == sorted(starts)
    free = conn.execute(
        "SELECT count(*) FROM shop_slots WHERE shop_id = %s AND order_id IS NULL", (shop_id,)
    ).fetchone()[0]
    assert free > len(slots)  # the limit held
    naive = admin_client.get(f"/shops/{shop_id}/slots", params={"start": "2026-11-23T08:00:00"})
    assert naive.status_code == 400


def test_request_bodies_over_a_megabyte_are_refused_with_413(admin_client):
    huge = {"work_done": "x" * (1 << 20), "cost": "1.00"}
    response = admin_client.post("/service-orders/1/complete", json=huge)
    assert response.status_code == 413
    assert response.json()["type"] == "/problems/body-too-large"

    def chunks():  # no content-length: counted as it arrives
        for _ in range(40):
            yield b"x" * 32768

    chunked = admin_client.post(
        "/webhooks", content=chunks(), headers={"content-type": "application/json"}
    )
    assert chunked.status_code == 413
    small = admin_client.post("/service-orders/1/complete", json={"work_done": "x", "cost": "1"})
    assert small.status_code == 404  # an ordinary answer: the order does not exist


def test_a_scheduled_visit_moves_to_another_free_slot_or_stays(conn, admin_client):
    _shops(conn)
    oil_alert(conn, "WLAPF000000000007")
    (order_id,) = order_open_alerts(conn=conn)
    base = f"/service-orders/{order_id}"
    admin_client.post(f"{base}/propose", json={"mode": "auto", "consent": "auto_book"})
    assert admin_client.post(f"{base}/reschedule").status_code == 409  # nothing booked yet
    admin_client.post(f"{base}/schedule")
    (first,) = conn.execute(
        "SELECT slot_id FROM service_orders WHERE order_id = %s", (order_id,)
    ).fetchone()
    later = admin_client.get(f"{base}/slots").json()[-1]["slot_id"]
    moved = admin_client.post(f"{base}/reschedule", json={"slot_id": later, "reason": "a trip"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "scheduled"
    assert moved.json()["events"][-1]["kind"] == "reschedule"
    held = conn.execute(
        "SELECT slot_id FROM shop_slots WHERE order_id = %s", (order_id,)
    ).fetchall()
    assert held == [(later,)] and later != first  # the old slot is free again
    taken = conn.execute(
        "SELECT slot_id FROM shop_slots WHERE order_id IS NOT NULL AND slot_id <> %s LIMIT 1",
        (later,),
    ).fetchone()
    foreign = conn.execute(
        "SELECT min(slot_id) FROM shop_slots WHERE shop_id <> (SELECT shop_id FROM "
        "service_orders WHERE order_id = %s)",
        (order_id,),
    ).fetchone()[0]
    refused = admin_client.post(f"{base}/reschedule", json={"slot_id": foreign})
    assert refused.status_code == 409 and taken is None
    assert conn.execute(
        "SELECT slot_id FROM shop_slots WHERE order_id = %s", (order_id,)
    ).fetchall() == [(later,)]  # a refused move keeps the visit
