# SPDX-License-Identifier: MIT
"""Issue 15, finding 9 and the low finding on rotation: service names cannot be registered as
devices, and a device's credentials issued, rotated or revoked through the API take effect
on a real Mosquitto (dynamic-security plugin) before the API answers."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import factories
import pytest
from broker_lanes import ConfiguredMosquitto, Probe
from fastapi.testclient import TestClient
from private_servers import MOSQUITTO

from api import create_app
from api.auth import AuthConfig
from api.auth.tokens import issue_access_token
from api.auth.users import create_user
from api.devices import broker
from api.devices.credentials import hash_secret, password_file, verify_secret
from wrenchlight.cli.broker import active_devices, write_config

pytestmark = pytest.mark.skipif(MOSQUITTO is None, reason="needs the mosquitto binary")

AUTH = AuthConfig(jwt_secret="tests-only-signing-secret-of-48-bytes-0123456789")
_n = itertools.count()


@pytest.fixture
def mosquitto() -> Iterator[ConfiguredMosquitto]:
    m = ConfiguredMosquitto([], mode="dynsec").start()
    try:
        yield m
    finally:
        m.close()


@pytest.fixture
def owner(conn) -> tuple[dict[str, str], int]:
    """A provisioning admin's headers and a car (owners may not choose device ids)."""
    user_id = create_user(conn=conn, email=f"admin-{next(_n)}@example.test", role="admin")
    vin = f"WLSEC{next(_n):012d}"
    vehicle_id = factories.vehicle(conn, vin=vin).vehicle_id
    return {"Authorization": f"Bearer {issue_access_token(AUTH, user_id)}"}, vehicle_id


@pytest.fixture
def api(db_url, mosquitto) -> Iterator[TestClient]:
    app = create_app(db_url, auth=AUTH)
    app.state.broker_control = broker.BrokerControl(mosquitto.service_url(broker.API_USER))
    with TestClient(app) as client:
        yield client


def connect(mosquitto: ConfiguredMosquitto, device_id: str, password: str) -> Probe:
    return Probe(
        mosquitto.port,
        username=device_id,
        password=password,
        client_id=broker.device_client_id(device_id),
    )


@pytest.mark.parametrize(
    "device_id", ["ingest", "INGEST", "api", "admin", "wl-ingest", "WL-api-0", "wl_x", "wl.x"]
)
def test_service_names_cannot_be_registered_as_devices(api, owner, device_id):
    headers, vehicle_id = owner
    response = api.post(
        "/devices", json={"device_id": device_id, "vehicle_id": vehicle_id}, headers=headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["type"].endswith("/device-id-reserved")
    assert "serial number" in response.json()["detail"]


@pytest.mark.parametrize("device_id", ["wl~ingest", "wl~api", "$SYS", "a:b", "a/b", "+", "#"])
def test_service_usernames_are_outside_the_device_alphabet(api, owner, device_id):
    headers, vehicle_id = owner
    response = api.post(
        "/devices", json={"device_id": device_id, "vehicle_id": vehicle_id}, headers=headers
    )
    # Refused by the id's alphabet: a service's username can never be a device's.
    assert response.status_code == 422


def test_a_device_registered_under_a_service_name_before_the_fix_gets_no_broker_login(
    conn, tmp_path
):
    # Finding 9: such a device wrote a second ``ingest:`` line. Now neither the password file
    # nor the configuration will carry it.
    conn.execute("INSERT INTO devices (device_id) VALUES ('ingest')")
    conn.execute(
        "INSERT INTO device_credentials (device_id, username, secret_hash) VALUES (%s, %s, %s)",
        ("ingest", "ingest", hash_secret("squatter")),
    )
    assert "ingest:" not in password_file(conn=conn)
    with pytest.raises(ValueError, match="reserved for services"):
        write_config(tmp_path, active_devices(conn))


def test_issue_rotate_and_revoke_take_effect_on_the_broker_at_once(api, owner, mosquitto):
    headers, vehicle_id = owner
    issued = api.post(
        "/devices", json={"device_id": "dongle-sec-1", "vehicle_id": vehicle_id}, headers=headers
    )
    assert issued.status_code == 201, issued.text
    first = issued.json()["password"]
    online = connect(mosquitto, "dongle-sec-1", first)
    assert not online.refused
    assert online.subscribe("wl/v1/dongle-sec-1/config").value == 1

    rotated = api.post("/devices/dongle-sec-1/credentials", headers=headers)
    assert rotated.status_code == 201
    second = rotated.json()["password"]
    # The open connection made with the old password is closed, and the old password is
    # refused, before anyone rebuilds a file or signals the broker.
    assert online.disconnected.wait(5)
    online.close()
    stale = connect(mosquitto, "dongle-sec-1", first)
    assert stale.refused
    stale.close()
    fresh = connect(mosquitto, "dongle-sec-1", second)
    assert not fresh.refused
    # Its lane came back with it: own topics only.
    assert fresh.subscribe("wl/v1/dongle-sec-1/config").value == 1
    assert fresh.subscribe("wl/v1/+/config").value == 0x87

    assert api.delete("/devices/dongle-sec-1/credentials", headers=headers).status_code == 204
    assert fresh.disconnected.wait(5)
    fresh.close()
    revoked = connect(mosquitto, "dongle-sec-1", second)
    assert revoked.refused
    revoked.close()
    assert api.get("/devices/dongle-sec-1", headers=headers).json()["credentials_issued_at"] is None


def test_a_change_the_broker_does_not_take_changes_nothing(api, owner, mosquitto, conn):
    headers, vehicle_id = owner
    issued = api.post(
        "/devices", json={"device_id": "dongle-sec-2", "vehicle_id": vehicle_id}, headers=headers
    )
    password = issued.json()["password"]
    mosquitto.close()  # the broker is gone (close returns once its process has exited)
    rotated = api.post("/devices/dongle-sec-2/credentials", headers=headers)
    assert rotated.status_code == 503
    assert rotated.json()["type"].endswith("/broker-unavailable")
    (stored,) = conn.execute(
        "SELECT secret_hash FROM device_credentials WHERE device_id = 'dongle-sec-2' "
        "AND revoked_at IS NULL"
    ).fetchone()
    assert verify_secret(stored, password)  # still the one the device and broker hold
