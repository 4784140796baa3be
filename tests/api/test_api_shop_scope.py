# SPDX-License-Identifier: MIT
"""Shops in their lane (issue 15, finding 8): a shop sees a car only while it holds an
accepted, active order for it, and then the job's view; the car's history only when the
owner shares it; and only the working shop or the car's side records oil analyses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import factories
from api_helpers import make_caller

VIN = "WLSCPE00000000001"


def _one(conn, sql: str, params: tuple = ()) -> int:
    return conn.execute(sql, params).fetchone()[0]


def _shop(conn, name: str) -> int:
    return factories.shop(conn, name=name).shop_id


def _analysis() -> dict:
    sampled = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    return {"sampled_at": sampled, "drained": False, "life_left_pct": 46.0}


def test_a_shop_sees_the_job_view_only_while_working_on_the_car(client, conn):
    owner = make_caller(conn, "owner")
    vehicle = factories.vehicle(conn, vin=VIN, owner_user_id=owner.user_id)
    car = vehicle.vehicle_id
    earlier, working, lost = (_shop(conn, n) for n in ("Earlier Garage", "Working", "Lost"))
    staff = make_caller(conn, "shop_staff", shop_id=working)
    loser = make_caller(conn, "shop_staff", shop_id=lost)
    # Another shop's finished job and its report, with its cost.
    done = factories.order(
        conn,
        vehicle,
        shop_id=earlier,
        status="completed",
        issue="Pads",
        job_code="BRK",
        job_description="Brake pads",
        component="brake_pads",
    ).order_id
    conn.execute(
        "INSERT INTO service_reports (order_id, shop_id, work_done, cost, currency, on_time, "
        "reported_at) VALUES (%s, %s, 'Front pads replaced', 412.50, 'EUR', true, now())",
        (done, earlier),
    )
    # The open oil job: proposed to the working shop, before anyone consented.
    job = factories.order(
        conn, vehicle, shop_id=working, status="proposed", component="oil"
    ).order_id
    as_staff, as_loser, as_owner = staff.headers, loser.headers, owner.headers
    assert client.get(f"/vehicles/{car}", headers=as_staff).status_code == 404
    refused = client.post(f"/vehicles/{car}/oil-analyses", json=_analysis(), headers=as_staff)
    assert refused.status_code == 404
    # Offered to both shops; the working shop wins, the other one loses its offer.
    for shop, response in ((working, "accepted"), (lost, "withdrawn")):
        factories.offer(conn, job, shop, responded_at=factories.DB_NOW, response=response)
    conn.execute("UPDATE service_orders SET status = 'accepted' WHERE order_id = %s", (job,))

    # The job's view: identity, odometer and health; not the telemetry history, predictions
    # or alert history (403: never a shop's), nor the history of other shops' work (404).
    assert client.get(f"/vehicles/{car}", headers=as_staff).json()["vin"] == VIN
    assert client.get(f"/vehicles/{car}/health", headers=as_staff).status_code == 200
    for what in ("telemetry?signal=speed_kmh", "predictions", "alerts"):
        assert client.get(f"/vehicles/{car}/{what}", headers=as_staff).status_code == 403, what
    for what in ("service-history", "oil-analyses"):
        assert client.get(f"/vehicles/{car}/{what}", headers=as_staff).status_code == 404, what
    assert [v["vin"] for v in client.get("/vehicles", headers=as_staff).json()["items"]] == [VIN]
    # The working shop records the oil analysis; the shop that lost cannot, nor read the car.
    recorded = client.post(f"/vehicles/{car}/oil-analyses", json=_analysis(), headers=as_staff)
    assert recorded.status_code == 201, recorded.text
    for path in (f"/vehicles/{car}", f"/vehicles/{car}/health", f"/service-orders/{job}"):
        assert client.get(path, headers=as_loser).status_code == 404, path
    refused = client.post(f"/vehicles/{car}/oil-analyses", json=_analysis(), headers=as_loser)
    assert refused.status_code == 404
    analyses = "SELECT count(*) FROM oil_analyses WHERE vehicle_id = %s"
    assert _one(conn, analyses, (car,)) == 1

    # The owner shares the history: now the working shop reads the earlier report.
    assert client.patch(f"/vehicles/{car}", json={}, headers=as_staff).status_code == 403
    shared = client.patch(
        f"/vehicles/{car}", json={"share_history_with_shops": True}, headers=as_owner
    )
    assert shared.status_code == 200 and shared.json()["share_history_with_shops"] is True
    history = client.get(f"/vehicles/{car}/service-history", headers=as_staff)
    assert history.status_code == 200 and "Front pads replaced" in history.text
    assert client.get(f"/vehicles/{car}/service-history", headers=as_loser).status_code == 404
    bad = client.patch(f"/vehicles/{car}", json={"share": "yes"}, headers=as_owner)
    assert bad.status_code == 422

    # The job is done: the car leaves the shop's view again.
    conn.execute("UPDATE service_orders SET status = 'completed' WHERE order_id = %s", (job,))
    assert client.get(f"/vehicles/{car}", headers=as_staff).status_code == 404
    assert client.get(f"/service-orders/{job}", headers=as_staff).status_code == 200
    late = client.post(f"/vehicles/{car}/oil-analyses", json=_analysis(), headers=as_staff)
    assert late.status_code == 404
