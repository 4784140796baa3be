# SPDX-License-Identifier: MIT
"""Squatting (issue 15, low finding): a VIN typed into the API holds the car against nobody
who has its dongle, and sees none of that dongle's data; device ids are not anyone's to take."""

from __future__ import annotations

import factories
from api_helpers import make_caller

from api.devices import pairing
from db import registry

VIN = "WLSTAKE0000000001"


def _provision(conn, device_id: str, vin: str = VIN) -> tuple[int, str]:
    """The real dongle, provisioned for the car as the demo and the factory do it: (car, code)."""
    vehicle_id = registry.create_vehicle(conn, vin=vin)
    registry.register_device(conn, device_id=device_id, vehicle_id=vehicle_id)
    return vehicle_id, pairing.issue_code(conn=conn, device_id=device_id)


def _squat(client, conn, vin: str = VIN):
    """An owner who registers a VIN (and a device of their own) without having the car."""
    squatter = make_caller(conn, "owner")
    car = client.post("/vehicles", json={"vin": vin}, headers=squatter.headers)
    assert car.status_code == 201, car.text
    own = client.post(
        "/devices", json={"vehicle_id": car.json()["vehicle_id"]}, headers=squatter.headers
    )
    assert own.status_code == 201, own.text
    return squatter, car.json()["vehicle_id"], own.json()


def test_the_dongles_code_beats_an_unproven_registration(client, conn):
    squatter, vehicle_id, own = _squat(client, conn)
    # The squatter's own device's code proves nothing, and takes nothing from anyone.
    mine = client.post(
        "/vehicles/claims",
        json={"vin": VIN, "pairing_code": own["pairing_code"]},
        headers=squatter.headers,
    )
    assert mine.status_code == 200
    # Provisioning attaches the real dongle to the car with that VIN: the squatter's row.
    provisioned_id, real_code = _provision(conn, "real-1")
    assert provisioned_id == vehicle_id
    holder = make_caller(conn, "owner")
    claimed = client.post(
        "/vehicles/claims", json={"vin": VIN, "pairing_code": real_code}, headers=holder.headers
    )
    assert claimed.status_code == 201, claimed.text
    assert claimed.json()["owner_user_id"] == holder.user_id
    assert client.get(f"/vehicles/{vehicle_id}", headers=holder.headers).json()["vin_proven"]
    # The squatter lost the car, and their device no longer feeds it.
    assert client.get(f"/vehicles/{vehicle_id}", headers=squatter.headers).status_code == 404
    assert client.get("/vehicles", headers=squatter.headers).json()["items"] == []
    assert registry.device_vehicle(conn, own["device_id"]) is None
    # Nor logs in to the broker: its credentials are revoked (on a dynsec broker too:
    # tests/security/test_broker_credentials.py).
    active = conn.execute(
        "SELECT count(*) FROM device_credentials WHERE device_id = %s AND revoked_at IS NULL",
        (own["device_id"],),
    ).fetchone()
    assert active == (0,)
    attempt = conn.execute(
        "SELECT user_id, displaced_user_id FROM pairing_attempts WHERE outcome = 'took_over'"
    ).fetchall()
    assert attempt == [(holder.user_id, squatter.user_id)]
    audit = conn.execute(
        "SELECT route FROM audit_log WHERE user_id = %s AND object_type = 'vehicle' "
        "AND object_id = %s",
        (squatter.user_id, str(vehicle_id)),
    ).fetchall()
    assert audit == [("/vehicles/claims",)]
    # A proven holder is not displaced by the next code: a second dongle's code gets 409.
    _, second_code = _provision(conn, "real-2")
    third = make_caller(conn, "owner")
    refused = client.post(
        "/vehicles/claims", json={"vin": VIN, "pairing_code": second_code}, headers=third.headers
    )
    assert refused.status_code == 409 and refused.json()["type"] == "/problems/vehicle-owned"


def test_an_unproven_owner_sees_nothing_of_a_provisioned_dongle(client, conn):
    squatter, vehicle_id, own = _squat(client, conn)
    # Before the real dongle arrives, the squatter sees the car and what their own device sends.
    shown = client.get(f"/vehicles/{vehicle_id}", headers=squatter.headers).json()
    assert shown.get("vin_proven") is False
    assert client.get(f"/vehicles/{vehicle_id}/health", headers=squatter.headers).status_code == 200
    assert client.get(f"/devices/{own['device_id']}", headers=squatter.headers).status_code == 200
    _provision(conn, "real-3")
    for path in (
        f"/devices/{own['device_id']}",
        f"/vehicles/{vehicle_id}",
        f"/vehicles/{vehicle_id}/health",
        f"/vehicles/{vehicle_id}/alerts",
        f"/vehicles/{vehicle_id}/predictions",
        f"/vehicles/{vehicle_id}/service-history",
        "/devices/real-3",
    ):
        response = client.get(path, headers=squatter.headers)
        assert response.status_code == 404, (path, response.text)
    # Nor can they mint the dongle's code, or add another device to the car.
    assert client.post("/devices/real-3/pairing-code", headers=squatter.headers).status_code == 404
    more = client.post("/devices", json={"vehicle_id": vehicle_id}, headers=squatter.headers)
    assert more.status_code == 404
    # The real holder, with the label, gets it all.
    holder = make_caller(conn, "owner")
    code = pairing.issue_code(conn=conn, device_id="real-3")
    assert (
        client.post(
            "/vehicles/claims",
            json={"device_id": "real-3", "pairing_code": code},
            headers=holder.headers,
        ).status_code
        == 201
    )
    assert client.get(f"/vehicles/{vehicle_id}/health", headers=holder.headers).status_code == 200


def test_an_honest_owner_proves_their_registration_with_the_dongle(client, conn):
    owner = make_caller(conn, "owner")
    vehicle_id = client.post("/vehicles", json={"vin": VIN}, headers=owner.headers).json()[
        "vehicle_id"
    ]
    _, code = _provision(conn, "real-4")
    assert client.get(f"/vehicles/{vehicle_id}", headers=owner.headers).status_code == 404
    proven = client.post(
        "/vehicles/claims", json={"vin": VIN, "pairing_code": code}, headers=owner.headers
    )
    assert proven.status_code == 200 and proven.json()["vin_proven"] is True
    assert client.get(f"/vehicles/{vehicle_id}", headers=owner.headers).status_code == 200
    used = client.post(
        "/vehicles/claims", json={"vin": VIN, "pairing_code": code}, headers=owner.headers
    )
    assert used.status_code == 403  # the code was spent proving


def test_a_fleet_takes_a_vin_held_without_proof_but_not_one_held_with_it(client, conn):
    fleet = factories.fleet(conn, name="F").fleet_id
    manager = make_caller(conn, "fleet_manager", fleet_id=fleet)
    squatter, vehicle_id, own = _squat(client, conn)
    added = client.post(f"/fleets/{fleet}/vehicles", json={"vin": VIN}, headers=manager.headers)
    assert added.status_code == 200, added.text
    assert added.json()["fleet_id"] == fleet and added.json()["owner_user_id"] is None
    assert client.get(f"/vehicles/{vehicle_id}", headers=squatter.headers).status_code == 404
    assert registry.device_vehicle(conn, own["device_id"]) is None
    audit = conn.execute(
        "SELECT route FROM audit_log WHERE user_id = %s AND object_id = %s",
        (squatter.user_id, str(vehicle_id)),
    ).fetchall()
    assert audit == [("/fleets/{fleet_id}/vehicles",)]

    other_vin = "WLSTAKE0000000002"
    _, code = _provision(conn, "real-5", vin=other_vin)
    owner = make_caller(conn, "owner")
    client.post(
        "/vehicles/claims", json={"vin": other_vin, "pairing_code": code}, headers=owner.headers
    )
    refused = client.post(
        f"/fleets/{fleet}/vehicles", json={"vin": other_vin}, headers=manager.headers
    )
    assert refused.status_code == 409 and refused.json()["type"] == "/problems/vehicle-owned"


def test_a_dongles_code_does_not_take_a_fleets_car(client, conn):
    # Drivers and renters hold fleet dongles every day: their label is no proof against a fleet.
    fleet = factories.fleet(conn, name="F").fleet_id
    manager = make_caller(conn, "fleet_manager", fleet_id=fleet)
    made = client.post(f"/fleets/{fleet}/vehicles", json={"vin": VIN}, headers=manager.headers)
    assert made.status_code == 201 and made.json()["vin_proven"] is True
    _, code = _provision(conn, "real-6")
    driver = make_caller(conn, "owner")
    refused = client.post(
        "/vehicles/claims", json={"vin": VIN, "pairing_code": code}, headers=driver.headers
    )
    assert refused.status_code == 409 and refused.json()["type"] == "/problems/vehicle-in-fleet"


def test_owners_cannot_choose_device_ids(client, conn, admin):
    owner = make_caller(conn, "owner")
    vehicle_id = client.post("/vehicles", json={"vin": VIN}, headers=owner.headers).json()[
        "vehicle_id"
    ]
    chosen = client.post(
        "/devices", json={"device_id": "SN-000123", "vehicle_id": vehicle_id}, headers=owner.headers
    )
    assert chosen.status_code == 422 and chosen.json()["type"] == "/problems/device-id-assigned"
    assert "leave device_id out" in chosen.json()["detail"]
    made = client.post("/devices", json={"vehicle_id": vehicle_id}, headers=owner.headers).json()
    assert made["device_id"].startswith("dev-") and made["username"] == made["device_id"]
    again = client.post("/devices", json={"vehicle_id": vehicle_id}, headers=owner.headers).json()
    assert again["device_id"] != made["device_id"]
    # The id stays free for the dongle that carries it, provisioned by an admin.
    provisioned = client.post(
        "/devices", json={"device_id": "SN-000123", "vehicle_id": vehicle_id}, headers=admin.headers
    )
    assert provisioned.status_code == 201, provisioned.text
    flags = dict(conn.execute("SELECT device_id, provisioned FROM devices").fetchall())
    assert flags == {made["device_id"]: False, again["device_id"]: False, "SN-000123": True}
