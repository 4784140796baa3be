# SPDX-License-Identifier: MIT
"""The whole flow on real services.

simulated vehicle → ELM327 on a pseudo-terminal → python-OBD → edge agent → MQTT broker →
ingest → PostgreSQL → oil-life model → alert → pre-filled service order → HTTP API →
shop booked and serviced → the next drive's evaluation starts from the shop's oil change.
"""

import datetime as dt
import time

import pytest
from fastapi.testclient import TestClient

from api.auth.keys import create_key
from api.auth.users import create_user
from api.main import create_app
from db.registry import create_vehicle, register_device
from firmware_sim.vehicle import VehicleSpec
from ingest import IngestWorker
from orders.feedback import WorkReport, check_in, complete, start_service
from orders.placement import propose, schedule
from orders.policy import PlacementPolicy
from orders.service import order_open_alerts
from orders.shops import seed_shops
from orders.slots import open_slots
from predictive.evaluator import evaluate_pending
from predictive.health import latest_predictions
from wrenchlight.live import LiveVehicle

pytestmark = pytest.mark.e2e

VIN = (
    "1FTFW1ET5DFC10312"  # starts with '1' and ends with '2': python-OBD's decoder would strip them
)
ODOMETER_KM = 48_000.0
CHICAGO = (41.8781, -87.6298)


def _wait(predicate, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout_s} s waiting for {what}")


def _drive(conn, db_url, mqtt_url, device_id, vehicle_id, after=None):
    """Drive until ingest stored an odometer reading and eight signals (newer than ``after``)."""
    since = after or dt.datetime.min.replace(tzinfo=dt.UTC)
    # A group and session of its own: a shared broker must not hand this test's messages to
    # another test's (or an earlier run's) ingest session.
    worker = IngestWorker(
        db_url, mqtt_url, client_id=f"e2e-{device_id}", group=device_id, session_expiry_s=0
    )
    worker.start()
    live = LiveVehicle(
        spec=VehicleSpec(vin=VIN, initial_odometer_km=ODOMETER_KM),
        device_id=device_id,
        mqtt_url=mqtt_url,
        batch_window_s=2.0,
    )
    try:
        live.start()
        # Stage: python-OBD read the VIN and odometer from the simulated ECU; ingest stored them.
        _wait(
            lambda: conn.execute(
                "SELECT 1 FROM readings_long WHERE vehicle_id = %s AND signal_id = 166 "
                "AND time > %s",
                (vehicle_id, since),
            ).fetchone(),
            45,
            "an odometer reading to be stored",
        )
        _wait(
            lambda: (
                conn.execute(
                    "SELECT count(DISTINCT signal_id) FROM readings_long WHERE vehicle_id = %s "
                    "AND time > %s",
                    (vehicle_id, since),
                ).fetchone()[0]
                >= 8
            ),
            30,
            "eight signals",
        )
    finally:
        live.stop()
        worker.stop()
    return live


def test_dongle_to_service_order_through_every_part(conn, db_url, mqtt_url, unique_id):
    # The last oil change was 11,500 km ago: the first odometer reading over OBD puts the oil
    # past its threshold, so an alert follows from real data within seconds.
    vehicle_id = create_vehicle(
        conn,
        vin=VIN,
        home_lat=CHICAGO[0] + 0.01,
        home_lon=CHICAGO[1],
        oil_changed_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=200),
        oil_changed_odometer_km=ODOMETER_KM - 11_500,
    )
    register_device(conn, device_id=unique_id, vehicle_id=vehicle_id)
    seed_shops(conn=conn, center_lat=CHICAGO[0], center_lon=CHICAGO[1], count=8, seed=3)

    live = _drive(conn, db_url, mqtt_url, unique_id, vehicle_id)
    assert live.stats is not None and live.stats.vin == VIN
    seqs = [
        r[0]
        for r in conn.execute(
            "SELECT seq FROM batches WHERE device_id = %s ORDER BY seq", (unique_id,)
        )
    ]
    assert seqs == list(range(len(seqs))) and len(seqs) == live.stats.batches
    odometer = conn.execute(
        "SELECT odometer_km FROM vehicle_state WHERE vehicle_id = %s", (vehicle_id,)
    ).fetchone()[0]
    assert odometer == pytest.approx(ODOMETER_KM, abs=2.0)

    # Stage: the oil model crosses its threshold and raises exactly one alert.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    assert vehicle_id in evaluate_pending(conn=conn, now=later)
    alerts = conn.execute(
        "SELECT alert_id, kind FROM alerts WHERE vehicle_id = %s", (vehicle_id,)
    ).fetchall()
    assert [kind for _, kind in alerts] == ["oil_change"]

    # Stage: the alert becomes one pre-filled order at the nearest oil-change shop.
    assert len(order_open_alerts(conn=conn)) == 1
    assert order_open_alerts(conn=conn) == []

    # Stage: the owner sees the order and the vehicle's health through the API, with a key.
    owner = create_user(conn=conn, email="owner@example.test", role="owner")
    conn.execute(
        "UPDATE vehicles SET owner_user_id = %s WHERE vehicle_id = %s", (owner, vehicle_id)
    )
    key = create_key(conn=conn, user_id=owner).key
    with TestClient(create_app(db_url), headers={"X-API-Key": key}) as client:
        orders = client.get("/service-orders", params={"vehicle_id": vehicle_id}).json()["items"]
        health = client.get(f"/vehicles/{vehicle_id}/health").json()
    assert len(orders) == 1
    order = orders[0]
    assert order["vin"] == VIN
    assert order["status"] == "proposed"
    assert order["odometer_km"] == pytest.approx(ODOMETER_KM, abs=2.0)
    assert "oil" in order["job"]["description"].lower()
    assert order["shop"]["distance_km"] < 30
    assert health["vin"] == VIN
    assert health["oil"]["oil_life_pct"] < 15

    # Stage: the shop is auto-booked, services the car and reports the oil change.
    now = dt.datetime.now(dt.UTC)
    open_slots(conn=conn, start=now, days=14)
    order_id = order["order_id"]
    propose(
        conn=conn, order_id=order_id, now=now, policy=PlacementPolicy(mode="auto"),
        consent="auto_book",
    )  # fmt: skip
    schedule(conn=conn, order_id=order_id, now=now, actor="shop")
    check_in(conn=conn, order_id=order_id, now=now, actor="shop")
    start_service(conn=conn, order_id=order_id, now=now, actor="shop")
    report = WorkReport(work_done="oil change", cost=99, odometer_km=odometer, oil_changed=True)
    complete(conn=conn, order_id=order_id, now=now, report=report, actor="shop")

    # Stage: the next drive is evaluated from the shop's oil change: fresh oil, no alert.
    register_device(conn, device_id=f"{unique_id}b", vehicle_id=vehicle_id)
    _drive(conn, db_url, mqtt_url, f"{unique_id}b", vehicle_id, after=now)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    assert vehicle_id in evaluate_pending(conn=conn, now=later)
    oil = latest_predictions(conn=conn, vehicle_id=vehicle_id)["oil_life"]
    assert oil.evidence["baseline_s"] == pytest.approx(now.timestamp())
    assert oil.value > 95
    assert conn.execute(
        "SELECT count(*) FROM alerts WHERE vehicle_id = %s AND status <> 'resolved'",
        (vehicle_id,),
    ).fetchone() == (0,)
    assert order_open_alerts(conn=conn) == []
