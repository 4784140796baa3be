# SPDX-License-Identifier: MIT
"""Claiming a car with its dongle's pairing code: once per code, never from another owner,
audited, throttled."""

from __future__ import annotations

from api_helpers import AUTH, make_caller
from fastapi.testclient import TestClient

from api import create_app
from api.auth.accounts import create_account
from api.devices import pairing
from api.ratelimit import RateLimits
from db import registry

VIN = "WLSMCAR0000000001"


def _demo_car(conn, device_id: str = "sim-1", vin: str = VIN) -> str:
    """A simulated car as the demo makes it (no owner), and its dongle's fresh code."""
    vehicle_id = registry.create_vehicle(conn, vin=vin)
    registry.register_device(conn, device_id=device_id, vehicle_id=vehicle_id)
    return pairing.issue_codes(conn=conn, device_ids=[device_id])[device_id]


def _owner_of(conn, vin: str = VIN) -> int | None:
    return conn.execute("SELECT owner_user_id FROM vehicles WHERE vin = %s", (vin,)).fetchone()[0]


def test_a_code_claims_the_car_once_and_a_sale_goes_through_a_release(client, conn):
    code = _demo_car(conn)
    first, second = make_caller(conn, "owner"), make_caller(conn, "owner")
    # Typed as people type it: lower case, a space for the dash.
    typed = code.lower().replace("-", " ")
    claimed = client.post(
        "/vehicles/claims", json={"vin": VIN, "pairing_code": typed}, headers=first.headers
    )
    assert claimed.status_code == 201, claimed.text
    assert claimed.json()["owner_user_id"] == first.user_id == _owner_of(conn)
    # Used: the same code claims nothing for anyone.
    reused = client.post(
        "/vehicles/claims",
        json={"device_id": "sim-1", "pairing_code": code},
        headers=second.headers,
    )
    assert reused.status_code == 403 and "works once" in reused.json()["detail"]
    # The first owner sells: releasing gives them a new code to hand over with the car.
    released = client.post(
        f"/vehicles/{claimed.json()['vehicle_id']}/release", headers=first.headers
    )
    assert released.status_code == 200, released.text
    new_code = released.json()["pairing_codes"][0]["pairing_code"]
    assert released.json()["pairing_codes"][0]["device_id"] == "sim-1" and new_code != code
    assert _owner_of(conn) is None
    old = client.post(
        "/vehicles/claims", json={"vin": VIN, "pairing_code": code}, headers=second.headers
    )
    assert old.status_code == 403
    bought = client.post(
        "/vehicles/claims",
        json={"device_id": "sim-1", "pairing_code": new_code},
        headers=second.headers,
    )
    assert bought.status_code == 201 and _owner_of(conn) == second.user_id
    # The former owner cannot release it any more: it is not theirs to see.
    gone = client.post(f"/vehicles/{claimed.json()['vehicle_id']}/release", headers=first.headers)
    assert gone.status_code == 404
    outcomes = conn.execute(
        "SELECT user_id, device_id, outcome FROM pairing_attempts ORDER BY attempt_id"
    ).fetchall()
    assert outcomes == [
        (first.user_id, "sim-1", "claimed"),
        (second.user_id, "sim-1", "wrong_code"),
        (second.user_id, None, "wrong_code"),
        (second.user_id, "sim-1", "claimed"),
    ]


def test_wrong_codes_are_throttled_per_user_even_before_the_right_one(db_url, conn):
    code = _demo_car(conn)
    guesser = make_caller(conn, "owner")
    body = {"vin": VIN, "pairing_code": "AAAAA-AAAAA"}
    # A rate limit out of reach, so what answers is the count of wrong codes in the database,
    # which holds across processes and restarts.
    app = create_app(db_url, auth=AUTH, rate_limits=RateLimits(logins_per_client="1000/minute"))
    with TestClient(app) as client:
        for _ in range(pairing.MAX_FAILURES):
            wrong = client.post("/vehicles/claims", json=body, headers=guesser.headers)
            assert wrong.status_code == 403
        right = client.post(
            "/vehicles/claims", json=body | {"pairing_code": code}, headers=guesser.headers
        )
        assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0
        assert right.json()["type"] == "/problems/too-many-pairing-attempts"
        assert _owner_of(conn) is None
        # Another owner is not held back by the guesser.
        honest = make_caller(conn, "owner")
        ok = client.post(
            "/vehicles/claims", json=body | {"pairing_code": code}, headers=honest.headers
        )
        assert ok.status_code == 201


def test_claims_spend_from_the_rate_limit(db_url, conn):
    _demo_car(conn)
    owner = make_caller(conn, "owner")
    app = create_app(db_url, auth=AUTH, rate_limits=RateLimits(logins_per_client="2/minute"))
    with TestClient(app) as client:
        statuses = [
            client.post(
                "/vehicles/claims",
                json={"vin": VIN, "pairing_code": "AAAAA-AAAAA"},
                headers=owner.headers,
            ).status_code
            for _ in range(3)
        ]
    assert statuses == [403, 403, 429]


def test_a_registered_device_comes_with_its_code(client, conn):
    owner = make_caller(conn, "owner")
    vehicle = client.post("/vehicles", json={"vin": VIN}, headers=owner.headers).json()
    device = client.post(
        "/devices", json={"vehicle_id": vehicle["vehicle_id"]}, headers=owner.headers
    )
    assert device.status_code == 201 and device.json()["pairing_code"], device.text
    own_id = device.json()["device_id"]
    again = client.post(
        "/vehicles/claims",
        json={"vin": VIN, "pairing_code": device.json()["pairing_code"]},
        headers=owner.headers,
    )
    assert again.status_code == 200 and again.json()["vehicle_id"] == vehicle["vehicle_id"]
    # Someone registering the same VIN is told to claim it instead.
    other = make_caller(conn, "owner")
    taken = client.post("/vehicles", json={"vin": VIN}, headers=other.headers)
    assert taken.status_code == 409 and "POST /vehicles/claims" in taken.json()["detail"]
    # A new code replaces the old one.
    fresh = client.post(f"/devices/{own_id}/pairing-code", headers=owner.headers)
    assert fresh.status_code == 201
    stale = client.post(
        "/vehicles/claims",
        json={"device_id": own_id, "pairing_code": device.json()["pairing_code"]},
        headers=owner.headers,
    )
    assert stale.status_code == 403


def test_a_claim_must_name_the_car(client, conn):
    owner = make_caller(conn, "owner")
    response = client.post("/vehicles/claims", json={"pairing_code": "x"}, headers=owner.headers)
    assert response.status_code == 422 and "vin" in response.text


def test_create_account_gives_a_password_and_a_working_key(client, conn):
    account = create_account(
        conn=conn, email="demo-owner@example.test", role="owner", password="demo-password-1"
    )
    me = client.get("/auth/me", headers={"X-API-Key": account.api_key}).json()
    assert me["user_id"] == account.user_id and me["role"] == "owner"
    token = client.post(
        "/auth/token", data={"username": account.email, "password": "demo-password-1"}
    )
    assert token.status_code == 200
