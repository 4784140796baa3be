# SPDX-License-Identifier: MIT
"""Adding a car from the web app: the dongle's pairing code claims it through the API's own
service, once; the refusals are the API's, in plain words; only owners claim, as in the API;
wrong codes are throttled and the form is CSRF-protected."""

from __future__ import annotations

import factories
import pytest
from fastapi.testclient import TestClient
from test_web_sessions import csrf_of, sign_in
from web_helpers import AUTH, PASSWORD, make_owner, web_app

from api.auth.tokens import issue_access_token
from api.devices import pairing
from api.devices.broker import DeviceBroker
from db import registry
from web.deps import clock

NO_BROKER = DeviceBroker("none")

VIN = "WLPARK00000000001"


def dongle_car(conn, *, vin: str = VIN, device_id: str = "sim-pair-1") -> tuple[int, str]:
    """A car with a provisioned dongle and no owner (as the demo makes them), and its code."""
    vehicle_id = registry.create_vehicle(conn, vin=vin, make="Toyota", model="Corolla")
    registry.register_device(conn, device_id=device_id, vehicle_id=vehicle_id)
    return vehicle_id, pairing.issue_codes(conn=conn, device_ids=[device_id])[device_id]


def owner_of(conn, vehicle_id: int) -> int | None:
    row = conn.execute(
        "SELECT owner_user_id FROM vehicles WHERE vehicle_id = %s", (vehicle_id,)
    ).fetchone()
    return row[0]


def add_car(client: TestClient, car: str, code: str, **headers: str):
    """Open the add-a-car page and send its form."""
    page = client.get("/app/cars/add", headers=headers)
    assert page.status_code == 200, page.text
    return client.post(
        "/app/cars/add",
        data={"car": car, "code": code, "csrf_token": csrf_of(page.text)},
        headers=headers,
    )


def test_my_cars_links_to_the_form_which_works_without_javascript(client, owner):
    sign_in(client, owner.email)
    cars = client.get("/app/cars")
    assert 'href="/app/cars/add"' in cars.text and ">Add a car</a>" in cars.text
    form = client.get("/app/cars/add")
    assert form.status_code == 200
    assert '<form class="panel" method="post" action="/app/cars/add">' in form.text
    assert (
        '<label for="car">' in form.text and '<label for="code">Pairing code</label>' in form.text
    )
    assert 'name="csrf_token"' in form.text


def test_the_code_from_the_label_claims_the_car(client, owner, conn):
    vehicle_id, code = dongle_car(conn)
    sign_in(client, owner.email)
    # Typed as people type it: the VIN in lower case, the code with a space for the dash.
    added = add_car(client, VIN.lower(), code.lower().replace("-", " "))
    assert added.status_code == 303 and added.headers["location"] == f"/app/cars/{vehicle_id}"
    assert owner_of(conn, vehicle_id) == owner.user_id
    assert client.get(added.headers["location"]).status_code == 200
    assert "Toyota Corolla" in client.get("/app/cars").text
    outcomes = conn.execute("SELECT user_id, outcome FROM pairing_attempts").fetchall()
    assert outcomes == [(owner.user_id, "claimed")]


def test_the_dongles_id_names_the_car_too(client, owner, conn):
    vehicle_id, code = dongle_car(conn, device_id="sim-pair-7")
    sign_in(client, owner.email)
    added = add_car(client, " sim-pair-7 ", code)
    assert added.status_code == 303 and owner_of(conn, vehicle_id) == owner.user_id


def test_a_used_code_is_refused_in_plain_words(client, owner, conn):
    vehicle_id, code = dongle_car(conn)
    first = make_owner(conn, "first")
    pairing.claim(
        conn=conn, user_id=first.user_id, code=code, now=clock(), device_broker=NO_BROKER, vin=VIN
    )
    sign_in(client, owner.email)
    refused = add_car(client, VIN, code)
    assert refused.status_code == 403
    assert "That code does not match the car or dongle you named." in refused.text
    assert "each code works once" in refused.text and 'role="alert"' in refused.text
    assert "problem" not in refused.text.lower()  # words, not the API's problem details
    assert f'value="{VIN}"' in refused.text and code not in refused.text  # the code is not echoed
    assert owner_of(conn, vehicle_id) == first.user_id


def test_another_owners_car_is_not_claimable_even_with_a_right_code(client, owner, conn):
    vehicle_id, code = dongle_car(conn)
    first = make_owner(conn, "first")
    pairing.claim(
        conn=conn, user_id=first.user_id, code=code, now=clock(), device_broker=NO_BROKER, vin=VIN
    )
    fresh = pairing.issue_code(conn=conn, device_id="sim-pair-1")  # a new label, say
    sign_in(client, owner.email)
    refused = add_car(client, VIN, fresh)
    assert refused.status_code == 409
    assert "The code is right, but the car belongs to another owner." in refused.text
    assert owner_of(conn, vehicle_id) == first.user_id


def test_a_fleets_car_is_not_claimable(client, owner, conn):
    vehicle_id, code = dongle_car(conn)
    fleet = factories.fleet(conn)
    conn.execute(
        "UPDATE vehicles SET fleet_id = %s WHERE vehicle_id = %s", (fleet.fleet_id, vehicle_id)
    )
    sign_in(client, owner.email)
    refused = add_car(client, VIN, code)
    assert refused.status_code == 409 and "belongs to a fleet" in refused.text
    assert owner_of(conn, vehicle_id) is None


def test_a_name_that_is_neither_a_vin_nor_a_dongle_id_is_said_so(client, owner, conn):
    sign_in(client, owner.email)
    refused = add_car(client, "my car!", "7KQ4M-2XD9P")
    assert (
        refused.status_code == 422 and "Type the car's VIN (17 letters and digits)" in refused.text
    )
    assert conn.execute("SELECT count(*) FROM pairing_attempts").fetchone()[0] == 0


def person(conn, role: str):
    """A user of ``role`` with a password, tied to a fleet or shop when the role needs one."""
    ties = {}
    if role == "fleet_manager":
        ties = {"fleet_id": factories.fleet(conn).fleet_id}
    elif role == "shop_staff":
        ties = {"shop_id": factories.shop(conn).shop_id}
    return factories.user(conn, role, password=PASSWORD, **ties)


@pytest.mark.parametrize("role", ["fleet_manager", "shop_staff", "admin"])
def test_only_owners_claim_as_in_the_api(client, conn, role):
    vehicle_id, code = dongle_car(conn)
    someone = person(conn, role)
    sign_in(client, someone.email)
    assert "/app/cars/add" not in client.get("/app/cars").text
    page = client.get("/app/cars/add")
    assert page.status_code == 403 and "Only a car's owner adds it" in page.text
    assert 'name="code"' not in page.text
    cars = client.get("/app/cars")  # a form token of this session, to send the form anyway
    sent = client.post(
        "/app/cars/add", data={"car": VIN, "code": code, "csrf_token": csrf_of(cars.text)}
    )
    assert sent.status_code == 403 and "Only a car's owner adds it" in sent.text
    assert owner_of(conn, vehicle_id) is None
    assert conn.execute("SELECT count(*) FROM pairing_attempts").fetchone()[0] == 0


def test_a_forged_form_claims_nothing(client, owner, conn):
    vehicle_id, code = dongle_car(conn)
    sign_in(client, owner.email)
    forged = client.post("/app/cars/add", data={"car": VIN, "code": code, "csrf_token": "x"})
    assert forged.status_code == 403 and owner_of(conn, vehicle_id) is None


def test_wrong_codes_are_throttled_per_user(client, owner, conn):
    vehicle_id, code = dongle_car(conn)
    sign_in(client, owner.email)
    for _ in range(pairing.MAX_FAILURES):
        assert add_car(client, VIN, "00000-00000").status_code == 403
    # Past the service's budget even the right code waits, as the API says.
    throttled = add_car(client, VIN, code)
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    assert "Too many wrong codes in the last hour." in throttled.text
    assert owner_of(conn, vehicle_id) is None


def test_claims_spend_the_apis_per_user_budget(db_url, smtp, conn):
    owner = make_owner(conn)
    vehicle_id, code = dongle_car(conn)
    with TestClient(web_app(db_url, None, logins="4/minute"), follow_redirects=False) as client:
        sign_in(client, owner.email)  # counted for the client's address; claims for the user
        statuses = [add_car(client, VIN, "00000-00000").status_code for _ in range(3)]
        # The API's claims and the page's spend one budget: no faster guessing by switching.
        token = issue_access_token(AUTH, owner.user_id)
        api = client.post(
            "/vehicles/claims",
            json={"vin": VIN, "pairing_code": "00000-00000"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert statuses == [403, 403, 403] and api.status_code == 403
        refused = add_car(client, VIN, code)
    assert refused.status_code == 429 and "Wait a minute, then try again." in refused.text
    assert int(refused.headers["retry-after"]) >= 1 and owner_of(conn, vehicle_id) is None


def test_the_form_in_chinese(client, owner, conn):
    dongle_car(conn)
    sign_in(client, owner.email)
    zh = {"Accept-Language": "zh-CN"}
    refused = add_car(client, VIN, "00000-00000", **zh)
    assert '<html lang="zh-Hans">' in refused.text and "添加车辆" in refused.text
    assert "该配对码与您填写的车辆或设备不符" in refused.text
