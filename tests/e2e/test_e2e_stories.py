# SPDX-License-Identifier: MIT
"""The three users' stories through the HTTP API only, from the accounts the demo prints.

``wrenchlight demo --json`` runs as a subprocess on a fresh database; its one JSON line gives
the API's URL and the accounts. Every step after that is an HTTP call with an account's key,
as an owner's app, a shop's screen or a fleet manager's spreadsheet would make it. A newcomer
joins by the admin's invitation and claims the car the demo left unclaimed with its dongle's
pairing code. The demo is stopped with SIGINT at the end and must exit cleanly.
"""

from __future__ import annotations

import csv
import io
import json
import os
import selectors
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import psycopg
import pytest
from private_servers import broker_of_its_own
from psycopg import sql

from db.migrate import with_database

pytestmark = pytest.mark.e2e

WRENCHLIGHT = str(Path(sys.executable).parent / "wrenchlight")
OPEN = {"proposed", "offered", "accepted", "scheduled", "checked_in", "in_service"}


def _json_line(proc: subprocess.Popen[str], timeout_s: float) -> dict[str, Any]:
    """The demo's JSON line, read as soon as it is printed."""
    assert proc.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if selector.select(timeout=1.0):
            line = proc.stdout.readline()
            if line.startswith("{"):
                return json.loads(line)  # type: ignore[no-any-return]
            if not line and proc.poll() is not None:
                break
    pytest.fail(f"the demo printed no JSON line within {timeout_s} s (exit {proc.poll()})")


@pytest.fixture(scope="module")
def demo_broker(mqtt_url: str) -> Iterator[str]:
    """A Mosquitto of the demo's own where one can run (else the shared broker): on a broker
    other tests use, their ingest workers join the same shared group and take a share of the
    demo's batches, which the demo then waits for in vain."""
    with broker_of_its_own(mqtt_url) as url:
        yield url


@pytest.fixture(scope="module")
def demo(postgres_server_url: str, demo_broker: str, tmp_path_factory) -> Iterator[dict[str, Any]]:
    """A running demo on a database and broker of its own: its JSON line; stopped with SIGINT
    after."""
    name = f"wl_e2e_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    tmp = tmp_path_factory.mktemp("demo")
    env = {
        **os.environ,
        "WRENCHLIGHT_DATABASE_URL": with_database(postgres_server_url, name),
        "WRENCHLIGHT_MQTT_URL": demo_broker,
        "WRENCHLIGHT_API_PORT": "0",  # a free port, picked by the demo's API server
        "WRENCHLIGHT_DATA_DIR": str(tmp),
    }
    # A car per story of the demo's world (wrenchlight.demo_world.STORIES), one to claim.
    args = ["demo", "--vehicles", "7", "--days", "20", "--live-seconds", "3", "--json"]
    with (tmp / "stderr.log").open("w") as stderr:
        proc = subprocess.Popen(
            [WRENCHLIGHT, *args], env=env, cwd=tmp, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
        try:
            yield _json_line(proc, timeout_s=150)
            proc.send_signal(signal.SIGINT)
            out, _ = proc.communicate(timeout=60)
            # Stopped cleanly: exit 0, and the one JSON line was the only one.
            assert proc.returncode == 0, (tmp / "stderr.log").read_text()[-3000:]
            assert not out.strip(), out
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()  # else a failed start leaves the pipe to the collector
            with psycopg.connect(postgres_server_url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


def _account(demo: dict[str, Any], role: str, has: str) -> dict[str, Any]:
    """The first account of ``role`` whose to-do list mentions ``has``."""
    return next(a for a in demo["accounts"] if a["role"] == role and has in a["todo"])


def _client(demo: dict[str, Any], account: dict[str, Any]) -> httpx2.Client:
    return httpx2.Client(
        base_url=demo["api_url"], headers={"X-API-Key": account["api_key"]}, timeout=30
    )


def _ok(response: httpx2.Response, status: int = 200) -> Any:
    assert response.status_code == status, (response.request.url, response.text)
    return response.json()


def _orders(client: httpx2.Client, **filters: Any) -> list[dict[str, Any]]:
    return _ok(client.get("/service-orders", params=filters))["items"]  # type: ignore[no-any-return]


def test_the_demo_prints_an_account_of_every_role(demo):
    assert demo["api_url"].startswith("http://127.0.0.1:")
    roles = {a["role"] for a in demo["accounts"]}
    assert roles == {"admin", "owner", "fleet_manager", "shop_staff"}
    for account in demo["accounts"]:
        assert account["email"] and account["password"] and account["api_key"].startswith("wl_")
        # The password works too: the OAuth2 password flow gives a token that calls the API.
        token = httpx2.post(
            demo["api_url"] + "/auth/token",
            data={"username": account["email"], "password": account["password"]},
        )
        me = httpx2.get(
            demo["api_url"] + "/auth/me",
            headers={"Authorization": f"Bearer {_ok(token)['access_token']}"},
        )
        assert _ok(me)["role"] == account["role"]


def _new_owner(demo: dict[str, Any], admin: httpx2.Client, name: str) -> httpx2.Client:
    """An owner who joined by the admin's invitation and signed in with their password."""
    email = f"{name}.{uuid.uuid4().hex[:6]}@example.com"
    invited = _ok(admin.post("/auth/invitations", json={"email": email, "role": "owner"}), 201)
    password = f"{name} chose this passphrase"
    joined = httpx2.post(
        invited["accept_url"], json={"token": invited["token"], "password": password}
    )
    assert _ok(joined, 201)["role"] == "owner"
    token = httpx2.post(
        demo["api_url"] + "/auth/token", data={"username": email, "password": password}
    )
    return httpx2.Client(
        base_url=demo["api_url"],
        headers={"Authorization": f"Bearer {_ok(token)['access_token']}"},
        timeout=30,
    )


def test_a_new_owner_claims_the_unclaimed_car_with_its_pairing_code(demo):
    car = demo["claimable"]
    assert car["vin"] and car["device_id"] and car["pairing_code"]
    admin = _account(demo, "admin", "")
    with _client(demo, admin) as api, _new_owner(demo, api, "robin") as robin:
        assert _ok(robin.get("/vehicles"))["items"] == []
        claim = {"vin": car["vin"], "pairing_code": car["pairing_code"]}
        claimed = _ok(robin.post("/vehicles/claims", json=claim), 201)
        assert (claimed["vehicle_id"], claimed["vin"]) == (car["vehicle_id"], car["vin"])
        assert [v["vehicle_id"] for v in _ok(robin.get("/vehicles"))["items"]] == [
            car["vehicle_id"]
        ]
        health = _ok(robin.get(f"/vehicles/{car['vehicle_id']}/health"))
        assert health["vehicle_id"] == car["vehicle_id"] and "oil" in health

        # The same code in another owner's hands: refused, saying why, and the car stays.
        with _new_owner(demo, api, "sasha") as sasha:
            refused = sasha.post("/vehicles/claims", json=claim)
            assert refused.status_code == 403, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
            problem = refused.json()
            assert problem["type"].endswith("/pairing-code-invalid") and problem["detail"]
            assert _ok(sasha.get("/vehicles"))["items"] == []
            gone = sasha.get(f"/vehicles/{car['vehicle_id']}/health")
            assert gone.status_code in (403, 404), gone.text
        owner = _ok(robin.get(f"/vehicles/{car['vehicle_id']}"))["owner_user_id"]
        assert owner == _ok(robin.get("/auth/me"))["user_id"]


def test_owner_sees_health_and_the_proposed_order_and_confirms_it(demo):
    alex = _account(demo, "owner", "confirm order")
    with _client(demo, alex) as api:
        (vehicle_id,) = alex["vehicle_ids"]
        assert [v["vehicle_id"] for v in _ok(api.get("/vehicles"))["items"]] == [vehicle_id]
        health = _ok(api.get(f"/vehicles/{vehicle_id}/health"))
        assert health["vehicle_id"] == vehicle_id
        assert health["oil"]["oil_life_pct"] is not None and health["oil"]["band"]
        (order,) = _orders(api, status="proposed")
        assert order["vehicle_id"] == vehicle_id
        detail = _ok(api.get(f"/service-orders/{order['order_id']}"))
        assert detail["match"]["ranked"], "the owner sees the shops proposed and why"
        assert detail["job"]["code"] == "OIL-CHG" and detail["parts"]
        confirmed = _ok(api.post(f"/service-orders/{order['order_id']}/confirm", json={}))
        assert confirmed["status"] == "accepted"
        slots = _ok(api.get(f"/service-orders/{order['order_id']}/slots"))
        picked = slots[-1]["slot_id"]  # not the earliest: the owner's own choice
        booked = api.post(f"/service-orders/{order['order_id']}/schedule", json={"slot_id": picked})
        assert _ok(booked)["status"] == "scheduled"
        free = {s["slot_id"] for s in _ok(api.get(f"/service-orders/{order['order_id']}/slots"))}
        assert picked not in free


def test_owner_reschedules_the_booked_visit(demo):
    blair = _account(demo, "owner", "visit booked")
    with _client(demo, blair) as api:
        (visit,) = _orders(api, status="scheduled")
        assert visit["vehicle_id"] in blair["vehicle_ids"]
        slots = _ok(api.get(f"/service-orders/{visit['order_id']}/slots"))
        assert slots, "the booked shop has other free slots"
        moved = _ok(
            api.post(
                f"/service-orders/{visit['order_id']}/reschedule",
                json={"slot_id": slots[-1]["slot_id"], "reason": "Friday suits me better"},
            )
        )
        assert moved["status"] == "scheduled"
        assert moved["events"][-1]["kind"] == "reschedule"
        free = {s["slot_id"] for s in _ok(api.get(f"/service-orders/{visit['order_id']}/slots"))}
        assert slots[-1]["slot_id"] not in free


def test_shop_accepts_the_offer_completes_the_visit_and_the_owner_sees_new_oil_life(demo):
    sam = _account(demo, "shop_staff", "visit")
    blair = _account(demo, "owner", "order offered to shops")
    with _client(demo, sam) as shop, _client(demo, blair) as owner:
        (offer,) = _ok(shop.get(f"/shops/{sam['shop_id']}/offers"))
        order_id = offer["order_id"]
        accepted = _ok(shop.post(f"/service-orders/{order_id}/offers/{offer['offer_id']}/accept"))
        assert accepted["status"] == "accepted"
        assert accepted["shop"]["shop_id"] == sam["shop_id"]
        assert _ok(shop.post(f"/service-orders/{order_id}/schedule"))["status"] == "scheduled"
        assert _ok(shop.post(f"/service-orders/{order_id}/check-in"))["status"] == "checked_in"
        assert _ok(shop.post(f"/service-orders/{order_id}/start"))["status"] == "in_service"
        # The shop reads the odometer at the visit: at least what the car last reported (its
        # data may have kept arriving since the order was made).
        car = _ok(owner.get(f"/vehicles/{accepted['vehicle_id']}/health"))
        odometer = max(accepted["odometer_km"], car["odometer_km"] or 0.0)
        report = {
            "work_done": "Oil and filter changed",
            "parts": [{"part": "engine oil 5W-30", "quantity": 4.5, "unit": "l"}],
            "cost": "89.00",
            "currency": (accepted["estimate"] or {}).get("currency", "USD"),
            "odometer_km": round(odometer + 0.5, 1),
            "oil_changed": True,
        }
        done = _ok(shop.post(f"/service-orders/{order_id}/complete", json=report))
        assert done["status"] == "completed"

        vehicle_id = accepted["vehicle_id"]
        assert vehicle_id in blair["vehicle_ids"]
        history = _ok(owner.get(f"/vehicles/{vehicle_id}/service-history"))["items"]
        assert history and history[0]["work_done"] == "Oil and filter changed"
        # The owner's health shows the fresh oil at once, without waiting for the next drive.
        oil = _ok(owner.get(f"/vehicles/{vehicle_id}/health"))["oil"]
        assert oil["oil_life_pct"] >= 99.0, oil


def test_fleet_manager_gets_the_health_table_and_its_csv(demo):
    morgan = next(a for a in demo["accounts"] if a["role"] == "fleet_manager")
    fleet_id = morgan["fleet_id"]
    with _client(demo, morgan) as api:
        table = _ok(api.get(f"/fleets/{fleet_id}/health"))["items"]
        assert {v["vehicle_id"] for v in table} == set(morgan["vehicle_ids"])
        assert all(v["status"] for v in table)
        response = api.get(f"/fleets/{fleet_id}/health.csv")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert {int(r["vehicle_id"]) for r in rows} == set(morgan["vehicle_ids"])
        # The fleet's completed service shows in its figures: counted, and its cost.
        completed = _orders(api, status="completed")
        assert completed, "the demo's fleet has a completed visit"
        kpis = _ok(api.get(f"/fleets/{fleet_id}/kpis"))
        assert kpis["services_completed"] >= len(completed) >= 1, kpis
        assert kpis["maintenance_cost"] and all(
            cost > 0 for cost in kpis["maintenance_cost"].values()
        ), kpis


def test_a_cancelled_order_is_rebooked(demo):
    morgan = next(a for a in demo["accounts"] if a["role"] == "fleet_manager")
    with _client(demo, morgan) as api:
        (order,) = _orders(api, status="proposed")
        cancelled = api.post(
            f"/service-orders/{order['order_id']}/cancel", json={"reason": "the van is away"}
        )
        assert _ok(cancelled)["status"] == "cancelled"
        rebooked = api.post(f"/service-orders/{order['order_id']}/rebook", json={})
        assert rebooked.status_code == 201, rebooked.text
        # A new order for the same alert, not the cancelled one brought back.
        new = rebooked.json()
        assert new["order_id"] != order["order_id"], new
        assert new["alert_id"] == order["alert_id"] is not None, (new, order)
        assert new["vehicle_id"] == order["vehicle_id"] and new["status"] in OPEN, new
        again = _orders(api, vehicle_id=order["vehicle_id"])
        assert any(o["status"] in OPEN and o["component"] == order["component"] for o in again), (
            again
        )
