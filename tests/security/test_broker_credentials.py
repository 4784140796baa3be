# SPDX-License-Identifier: MIT
"""Issue 15, finding 9 and the low finding on rotation: service names cannot be registered as
devices, and a device's credentials issued, rotated or revoked through the API take effect
on a real Mosquitto (dynamic-security plugin) before the API answers. The API here is built
from settings, as ``wrenchlight api`` builds it: the broker mode (``WRENCHLIGHT_BROKER_MODE``)
decides, and a dynsec API without its control URL does not start; a file-mode API says in
its answers and audit rows that an operator step is pending. An owner whose unproven
registration loses the car to a pairing code loses their devices' broker logins with it."""

from __future__ import annotations

import itertools
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import factories
import pytest
from broker_lanes import ConfiguredMosquitto, Probe
from fastapi.testclient import TestClient
from private_servers import MOSQUITTO

from api.auth import AuthConfig
from api.auth.tokens import issue_access_token
from api.auth.users import create_user
from api.devices import broker, pairing
from api.devices.credentials import hash_secret, password_file, verify_secret
from db import registry
from wrenchlight.api_config import app_from_settings, build_app
from wrenchlight.cli.broker import active_devices, write_config
from wrenchlight.settings import Settings

pytestmark = pytest.mark.skipif(MOSQUITTO is None, reason="needs the mosquitto binary")

SECRET = "tests-only-signing-secret-of-48-bytes-0123456789"
AUTH = AuthConfig(jwt_secret=SECRET)
_n = itertools.count()


def settings(tmp_path, **values) -> Settings:
    """An operator's settings (no ``.env``): the token secret, a data directory, ``values``."""
    return Settings(_env_file=None, jwt_secret=SECRET, data_dir=tmp_path, **values)


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
def api(db_url, mosquitto, tmp_path) -> Iterator[TestClient]:
    # As `wrenchlight api` builds it: the control URL from api.env makes the mode dynsec.
    control = mosquitto.service_url(broker.API_USER)
    app = build_app(settings(tmp_path, mqtt_control_url=control), db_url)
    assert app.state.device_broker.mode == "dynsec"
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


def test_an_api_started_from_the_environment_revokes_on_the_broker(
    db_url, mosquitto, owner, tmp_path, monkeypatch
):
    # The uvicorn workers' factory reads nothing but the environment an operator sets.
    for name, value in {
        "WRENCHLIGHT_DATABASE_URL": db_url,
        "WRENCHLIGHT_MQTT_CONTROL_URL": mosquitto.service_url(broker.API_USER),
        "WRENCHLIGHT_BROKER_MODE": "dynsec",
        "WRENCHLIGHT_JWT_SECRET": SECRET,
        "WRENCHLIGHT_DATA_DIR": str(tmp_path),
    }.items():
        monkeypatch.setenv(name, value)
    headers, vehicle_id = owner
    with TestClient(app_from_settings()) as api:
        issued = api.post(
            "/devices",
            json={"device_id": "dongle-env-1", "vehicle_id": vehicle_id},
            headers=headers,
        )
        assert issued.status_code == 201 and issued.json()["broker"] == "applied"
        online = connect(mosquitto, "dongle-env-1", issued.json()["password"])
        assert not online.refused
        assert api.delete("/devices/dongle-env-1/credentials", headers=headers).status_code == 204
    assert online.disconnected.wait(5)
    online.close()
    again = connect(mosquitto, "dongle-env-1", issued.json()["password"])
    assert again.refused
    again.close()


def test_dynsec_mode_without_the_control_url_refuses_to_start(db_url, tmp_path):
    with pytest.raises(ValueError, match="dynsec needs WRENCHLIGHT_MQTT_CONTROL_URL"):
        build_app(settings(tmp_path, broker_mode="dynsec"), db_url)
    # The command line says why in one line and serves nothing.
    env = {k: v for k, v in os.environ.items() if not k.startswith("WRENCHLIGHT_")}
    env |= {
        "WRENCHLIGHT_BROKER_MODE": "dynsec",
        "WRENCHLIGHT_DATABASE_URL": db_url,
        "WRENCHLIGHT_DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-m", "wrenchlight.cli", "api", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(
        "error: WRENCHLIGHT_BROKER_MODE=dynsec needs WRENCHLIGHT_MQTT_CONTROL_URL"
    )


def test_file_mode_says_an_operator_step_is_pending(db_url, owner, conn, tmp_path, caplog):
    headers, vehicle_id = owner
    app = build_app(settings(tmp_path, broker_mode="file"), db_url)
    with caplog.at_level(logging.WARNING), TestClient(app) as api:
        issued = api.post(
            "/devices",
            json={"device_id": "dongle-file-1", "vehicle_id": vehicle_id},
            headers=headers,
        )
        rotated = api.post("/devices/dongle-file-1/credentials", headers=headers)
        revoked = api.delete("/devices/dongle-file-1/credentials", headers=headers)
    # Said once at startup...
    assert any("BROKER_MODE=file" in r.getMessage() for r in caplog.records)
    # ...and in every answer that changed a credential, with the command to run.
    for answer in (issued, rotated):
        assert answer.status_code == 201
        assert answer.json()["broker"] == "pending"
        assert "mqtt-passwd" in answer.json()["operator_step"]
        assert "kill -HUP" in answer.json()["operator_step"]
    assert revoked.status_code == 202
    assert revoked.json()["broker"] == "pending" and revoked.json()["device_id"] == "dongle-file-1"
    assert "broker-config --mode file" in revoked.json()["operator_step"]
    details = [
        d
        for (d,) in conn.execute(
            "SELECT detail FROM audit_log WHERE object_type = 'device' "
            "AND object_id = 'dongle-file-1' ORDER BY id"
        )
    ]
    assert len(details) == 3
    assert all(d.startswith("broker: operator step pending: ") for d in details), details


def test_without_a_mode_or_control_url_the_api_warns_that_changes_need_an_operator(
    db_url, tmp_path, caplog
):
    app = build_app(settings(tmp_path), db_url)
    assert app.state.device_broker.mode == "file"
    with caplog.at_level(logging.WARNING), TestClient(app):
        pass
    assert any(
        "reach the broker only when an operator acts" in r.getMessage() for r in caplog.records
    )


def _squatter_device(api, conn, vin: str) -> tuple[int, int, dict]:
    """An owner who typed the VIN and registered a device of their own on it, through the API:
    (their user id, the car, the device's credentials)."""
    squatter = create_user(conn=conn, email=f"squat-{next(_n)}@example.test", role="owner")
    headers = {"Authorization": f"Bearer {issue_access_token(AUTH, squatter)}"}
    car = api.post("/vehicles", json={"vin": vin}, headers=headers)
    assert car.status_code == 201, car.text
    own = api.post("/devices", json={"vehicle_id": car.json()["vehicle_id"]}, headers=headers)
    assert own.status_code == 201, own.text
    return squatter, car.json()["vehicle_id"], own.json()


def _active_credentials(conn, device_id: str) -> int:
    (n,) = conn.execute(
        "SELECT count(*) FROM device_credentials WHERE device_id = %s AND revoked_at IS NULL",
        (device_id,),
    ).fetchone()
    return n


def _assert_cut_off(online: Probe, mosquitto: ConfiguredMosquitto, conn, own: dict) -> None:
    """The device's open connection was closed by the broker, which now refuses its password,
    and no credential of it is active."""
    assert online.disconnected.wait(5)
    online.close()
    stale = connect(mosquitto, own["device_id"], own["password"])
    assert stale.refused
    stale.close()
    assert _active_credentials(conn, own["device_id"]) == 0


def test_an_owner_displaced_by_a_pairing_code_loses_their_devices_broker_logins(
    api, conn, mosquitto
):
    vin = f"WLDSP{next(_n):012d}"
    squatter, vehicle_id, own = _squatter_device(api, conn, vin)
    online = connect(mosquitto, own["device_id"], own["password"])
    assert not online.refused
    # The real dongle is provisioned for that VIN; whoever holds it claims the car.
    registry.register_device(conn, device_id=f"real-{vin}", vehicle_id=vehicle_id)
    code = pairing.issue_code(conn=conn, device_id=f"real-{vin}")
    holder = create_user(conn=conn, email=f"holder-{next(_n)}@example.test", role="owner")
    claimed = api.post(
        "/vehicles/claims",
        json={"vin": vin, "pairing_code": code},
        headers={"Authorization": f"Bearer {issue_access_token(AUTH, holder)}"},
    )
    assert claimed.status_code == 201, claimed.text
    # The squatter's device was connected; the broker closed it and refuses its password.
    _assert_cut_off(online, mosquitto, conn, own)
    (detail,) = conn.execute(
        "SELECT detail FROM audit_log WHERE user_id = %s AND object_type = 'vehicle'",
        (squatter,),
    ).fetchone()
    assert detail == f"credentials revoked of {own['device_id']}; broker: applied"


def test_a_fleet_taking_a_typed_vin_revokes_the_owners_devices_on_the_broker(api, conn, mosquitto):
    vin = f"WLDSF{next(_n):012d}"
    _, _, own = _squatter_device(api, conn, vin)
    online = connect(mosquitto, own["device_id"], own["password"])
    assert not online.refused
    fleet_id = conn.execute("INSERT INTO fleets (name) VALUES ('F') RETURNING fleet_id").fetchone()[
        0
    ]
    manager = create_user(
        conn=conn, email=f"fm-{next(_n)}@example.test", role="fleet_manager", fleet_id=fleet_id
    )
    added = api.post(
        f"/fleets/{fleet_id}/vehicles",
        json={"vin": vin},
        headers={"Authorization": f"Bearer {issue_access_token(AUTH, manager)}"},
    )
    assert added.status_code == 200, added.text
    _assert_cut_off(online, mosquitto, conn, own)


def test_a_takeover_the_broker_does_not_confirm_changes_nothing(api, conn, mosquitto):
    vin = f"WLDSN{next(_n):012d}"
    squatter, vehicle_id, own = _squatter_device(api, conn, vin)
    registry.register_device(conn, device_id=f"real-{vin}", vehicle_id=vehicle_id)
    code = pairing.issue_code(conn=conn, device_id=f"real-{vin}")
    holder = create_user(conn=conn, email=f"holder-{next(_n)}@example.test", role="owner")
    mosquitto.close()
    refused = api.post(
        "/vehicles/claims",
        json={"vin": vin, "pairing_code": code},
        headers={"Authorization": f"Bearer {issue_access_token(AUTH, holder)}"},
    )
    assert refused.status_code == 503
    assert refused.json()["type"].endswith("/broker-unavailable")
    # The car, the device and its credentials are where they were; the code still works.
    (owner_id,) = conn.execute(
        "SELECT owner_user_id FROM vehicles WHERE vehicle_id = %s", (vehicle_id,)
    ).fetchone()
    assert owner_id == squatter
    assert registry.device_vehicle(conn, own["device_id"]) == (vehicle_id, vin)
    assert _active_credentials(conn, own["device_id"]) == 1
    assert pairing.claim(
        conn=conn,
        user_id=holder,
        code=code,
        now=datetime.now(UTC),
        device_broker=broker.DeviceBroker("none"),
        vin=vin,
    ).newly_claimed
