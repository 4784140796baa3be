# SPDX-License-Identifier: MIT
"""Device registration issues MQTT credentials once; a real Mosquitto accepts exactly them."""

from __future__ import annotations

import os
import threading

import factories
import paho.mqtt.client as mqtt
import pytest
from api_helpers import make_caller
from private_servers import MOSQUITTO, PrivateMosquitto

from api.devices.credentials import hash_secret, password_file, verify_secret

VIN = "WLDEVXCE000000001"


@pytest.fixture
def owner_and_vehicle(conn):
    """A fleet manager and a fleet car: they provision their dongles under ids they choose
    (owners may not choose ids, tests/api/test_api_squatting.py)."""
    fleet = factories.fleet(conn, name="F").fleet_id
    owner = make_caller(conn, "fleet_manager", fleet_id=fleet)
    vehicle_id = factories.vehicle(conn, vin=VIN, fleet_id=fleet).vehicle_id
    return owner, vehicle_id


def test_registration_returns_the_secret_once_and_stores_it_hashed(conn, client, owner_and_vehicle):
    owner, vehicle_id = owner_and_vehicle
    response = client.post(
        "/devices",
        json={"device_id": "dongle-1", "vehicle_id": vehicle_id, "firmware": "1.2"},
        headers=owner.headers,
    )
    assert response.status_code == 201
    issued = response.json()
    assert issued["username"] == "dongle-1" and issued["topic_prefix"] == "wl/v1/dongle-1/"
    assert len(issued["password"]) >= 43
    (stored,) = conn.execute("SELECT secret_hash FROM device_credentials").fetchone()
    assert issued["password"] not in stored and verify_secret(stored, issued["password"])
    assert not verify_secret(stored, issued["password"] + "x")

    device = client.get("/devices/dongle-1", headers=owner.headers).json()
    assert device["vehicle_id"] == vehicle_id and device["credentials_issued_at"]
    assert issued["password"] not in str(device)
    # The device's credentials are not user credentials: they open no API route.
    basic = client.get("/auth/me", headers={"Authorization": f"Bearer {issued['password']}"})
    assert basic.status_code == 401


def test_taken_device_id_is_a_conflict(client, owner_and_vehicle):
    owner, vehicle_id = owner_and_vehicle
    body = {"device_id": "dongle-1", "vehicle_id": vehicle_id}
    assert client.post("/devices", json=body, headers=owner.headers).status_code == 201
    again = client.post("/devices", json=body, headers=owner.headers)
    assert again.status_code == 409 and again.json()["type"] == "/problems/device-exists"


def test_a_boolean_is_not_a_vehicle_id(conn, client, owner_and_vehicle):
    """JSON's true would otherwise be read as vehicle 1 (found by schemathesis)."""
    owner, _ = owner_and_vehicle
    answer = client.post("/devices", json={"vehicle_id": True}, headers=owner.headers)
    assert answer.status_code == 422, answer.text
    assert conn.execute("SELECT count(*) FROM devices").fetchone()[0] == 0


def test_rotation_revokes_the_old_secret(conn, client, owner_and_vehicle):
    owner, vehicle_id = owner_and_vehicle
    body = {"device_id": "dongle-1", "vehicle_id": vehicle_id}
    first = client.post("/devices", json=body, headers=owner.headers).json()
    second = client.post("/devices/dongle-1/credentials", headers=owner.headers).json()
    assert second["password"] != first["password"]
    lines = password_file(conn=conn).splitlines()
    assert len(lines) == 1 and lines[0].startswith("dongle-1:$7$101$")
    stored = lines[0].split(":", 1)[1]
    assert verify_secret(stored, second["password"]) and not verify_secret(
        stored, first["password"]
    )


def test_hash_matches_mosquittos_own_format():
    # A vector made with `mosquitto_passwd -U` (Mosquitto 2.0): user dev1, password s3cret.
    made_by_mosquitto = (
        "$7$101$tNe04556yXBqoc1L$ejXiNVbRVFiBox7Ciw8+Lt/V3IFqOFPtSMKDcm/y8dRQaNKLXjli5m6v+"
        "Ww00cmNjhdpkQkZQ8Hgs4flNoM3rA=="
    )
    assert verify_secret(made_by_mosquitto, "s3cret")
    assert not verify_secret(made_by_mosquitto, "s3cret ")
    salt = b"\xb4\xd7\xb4\xe3\x9e\x7a\xc9\x70\x6a\xa1\xcd\x4b"
    assert hash_secret("s3cret", salt=salt) == made_by_mosquitto


def _session(port: int, username: str, password: str, publish_to: str | None = None) -> bool:
    """Connect (and publish at QoS 1 to ``publish_to``); True when the broker accepted all."""
    connected, acked = threading.Event(), threading.Event()
    result: dict[str, bool] = {}
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.username_pw_set(username, password)

    def on_connect(_c, _u, _f, reason_code, _p):
        result["ok"] = not reason_code.is_failure
        connected.set()

    def on_publish(_c, _u, _mid, reason_code, _p):
        # MQTT 5: a publish the access list denies is acknowledged with "not authorized".
        result["ok"] = not reason_code.is_failure
        acked.set()

    client.on_connect, client.on_publish = on_connect, on_publish
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        assert connected.wait(10), "no CONNACK within 10 s"
        if result["ok"] and publish_to is not None:
            client.publish(publish_to, b"{}", qos=1)
            assert acked.wait(10), "no PUBACK within 10 s"
    finally:
        client.disconnect()
        client.loop_stop()
    return result["ok"]


@pytest.mark.skipif(MOSQUITTO is None, reason="needs the mosquitto binary")
def test_mosquitto_accepts_issued_credentials_only_on_their_own_topics(
    conn, client, owner_and_vehicle
):
    owner, vehicle_id = owner_and_vehicle
    body = {"device_id": "dongle-1", "vehicle_id": vehicle_id}
    old = client.post("/devices", json=body, headers=owner.headers).json()
    new = client.post("/devices/dongle-1/credentials", headers=owner.headers).json()
    broker = PrivateMosquitto()
    passwords, acl = broker.directory / "passwd", broker.directory / "acl"
    passwords.write_text(password_file(conn=conn))
    acl.write_text("pattern readwrite wl/v1/%u/#\n")  # the access list api/README.md gives
    broker.conf.write_text(
        f"listener {broker.port} 127.0.0.1\nallow_anonymous false\n"
        f"password_file {passwords}\nacl_file {acl}\n"
        + ("user root\n" if os.geteuid() == 0 else "")
    )
    try:
        broker.start()
        assert _session(broker.port, "dongle-1", new["password"], "wl/v1/dongle-1/telemetry")
        assert not _session(broker.port, "dongle-1", new["password"], "wl/v1/dongle-2/telemetry")
        assert not _session(broker.port, "dongle-1", old["password"])
        assert not _session(broker.port, "dongle-2", new["password"])
    finally:
        broker.close()
