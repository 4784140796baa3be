# SPDX-License-Identifier: MIT
"""Registering vehicles: each caller's own, then a device on it, then its MQTT credentials."""

from __future__ import annotations

import factories
import pytest
from api_helpers import make_caller

VIN = "WLREGXSTER0000001"


def _fleet(conn, name="F") -> int:
    return factories.fleet(conn, name=name).fleet_id


def test_owner_registers_a_car_then_its_dongle(conn, client):
    owner = make_caller(conn, "owner")
    made = client.post("/vehicles", json={"vin": VIN, "make": "Skoda"}, headers=owner.headers)
    assert made.status_code == 201
    vehicle = made.json()
    assert vehicle["owner_user_id"] == owner.user_id and vehicle["fleet_id"] is None
    listed = client.get("/vehicles", headers=owner.headers).json()["items"]
    assert [v["vin"] for v in listed] == [VIN]
    device = client.post(
        "/devices", json={"vehicle_id": vehicle["vehicle_id"]}, headers=owner.headers
    )
    assert device.status_code == 201 and device.json()["username"] == device.json()["device_id"]
    other = make_caller(conn, "owner")
    assert client.get("/vehicles", headers=other.headers).json()["items"] == []


def test_fleet_manager_registers_into_their_fleet(conn, client):
    fleet = _fleet(conn)
    manager = make_caller(conn, "fleet_manager", fleet_id=fleet)
    made = client.post("/vehicles", json={"vin": VIN}, headers=manager.headers).json()
    assert made["fleet_id"] == fleet and made["owner_user_id"] is None


def test_admin_registers_for_anyone_that_exists(conn, client, admin):
    owner = make_caller(conn, "owner")
    made = client.post(
        "/vehicles", json={"vin": VIN, "owner_user_id": owner.user_id}, headers=admin.headers
    )
    assert made.status_code == 201 and made.json()["owner_user_id"] == owner.user_id
    missing = client.post(
        "/vehicles", json={"vin": "WLREGXSTER0000002", "owner_user_id": 999}, headers=admin.headers
    )
    assert missing.status_code == 404 and missing.json()["type"] == "/problems/user-not-found"


@pytest.mark.parametrize("field", ["owner_user_id", "fleet_id"])
def test_nobody_registers_for_someone_else(conn, client, field):
    owner = make_caller(conn, "owner")
    victim = make_caller(conn, "owner")
    target = victim.user_id if field == "owner_user_id" else _fleet(conn)
    response = client.post("/vehicles", json={"vin": VIN, field: target}, headers=owner.headers)
    assert response.status_code == 404
    assert conn.execute("SELECT count(*) FROM vehicles").fetchone()[0] == 0


def test_a_known_vin_is_a_conflict_and_shop_staff_may_not_register(conn, client):
    owner = make_caller(conn, "owner")
    assert client.post("/vehicles", json={"vin": VIN}, headers=owner.headers).status_code == 201
    again = client.post("/vehicles", json={"vin": VIN}, headers=owner.headers)
    assert again.status_code == 409 and again.json()["type"] == "/problems/vehicle-exists"
    shop = factories.shop(conn, name="S", lat=48, lon=11).shop_id
    staff = make_caller(conn, "shop_staff", shop_id=shop)
    refused = client.post("/vehicles", json={"vin": "WLREGXSTER0000003"}, headers=staff.headers)
    assert refused.status_code == 403


@pytest.mark.parametrize("vin", ["WLREGISTER0000001", "SHORT", "wlregxster0000001"])
def test_malformed_vin_is_422(conn, client, vin):
    owner = make_caller(conn, "owner")
    assert client.post("/vehicles", json={"vin": vin}, headers=owner.headers).status_code == 422
