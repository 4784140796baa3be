# SPDX-License-Identifier: MIT
"""A shop's own profile through the API: its staff replace hours, bays, capabilities, brands,
labour rate, currency and price list (checked as the directory checks them), and list their
colleagues; another shop's staff get the API's 404, owners and fleet managers a 403."""

from __future__ import annotations

import factories
from api_helpers import make_caller

PROFILE = {
    "address": "Lindwurmstraße 12",
    "city": "München",
    "phone": None,
    "hours": {"mon": [["08:00", "17:00"]], "sat": [["09:00", "12:00"]]},
    "bays": 3,
    "capabilities": ["oil_change", "tyres"],
    "brands": ["Volkswagen"],
    "labour_rate_per_h": "95.00",
    "currency": "EUR",
    "prices": {"OIL-CHG": "99.00"},
}


def test_staff_replace_their_shops_profile_and_list_its_staff(client, conn):
    shop_id = factories.shop(conn, name="Profile Garage").shop_id
    staff = make_caller(conn, "shop_staff", shop_id=shop_id)
    colleague = make_caller(conn, "shop_staff", shop_id=shop_id)
    done = client.put(f"/shops/{shop_id}/profile", json=PROFILE, headers=staff.headers)
    assert done.status_code == 200, done.text
    shop = done.json()
    assert shop["address"] == "Lindwurmstraße 12" and shop["bays"] == 3
    assert shop["hours"]["mon"] == [["08:00", "17:00"]] and shop["hours"]["sun"] == []
    assert shop["capabilities"] == ["oil_change", "tyres"] and shop["labour_rate_per_h"] == 95.0
    assert shop["prices"] == [{"job_code": "OIL-CHG", "price": 99.0, "labour_h": None}]
    assert client.get(f"/shops/{shop_id}", headers=staff.headers).json()["bays"] == 3
    slots = conn.execute(
        "SELECT count(*), max(bay) FROM shop_slots WHERE shop_id = %s", (shop_id,)
    ).fetchone()
    assert slots[0] > 0 and slots[1] == 3  # slots made from the new hours and bays
    listed = client.get(f"/shops/{shop_id}/staff", headers=staff.headers).json()
    assert {s["user_id"] for s in listed} == {staff.user_id, colleague.user_id}


def test_a_profile_the_directory_would_refuse_is_a_422(client, conn):
    shop_id = factories.shop(conn, name="Strict Garage").shop_id
    staff = make_caller(conn, "shop_staff", shop_id=shop_id)
    for wrong in (
        {"hours": {"mon": [["18:00", "08:00"]]}},
        {"hours": {"someday": [["08:00", "17:00"]]}},
        {"prices": {"NO-SUCH-JOB": "1"}},
        {"currency": "euro"},
        {"bays": 0},
        {"capabilities": []},
    ):
        refused = client.put(
            f"/shops/{shop_id}/profile", json=PROFILE | wrong, headers=staff.headers
        )
        assert refused.status_code == 422, wrong
    assert client.get(f"/shops/{shop_id}", headers=staff.headers).json()["bays"] != 0


def test_other_shops_and_roles_are_refused(client, conn):
    shop_id = factories.shop(conn, name="Mine Garage").shop_id
    rival = make_caller(conn, "shop_staff", shop_id=factories.shop(conn, name="Rival").shop_id)
    owner = make_caller(conn, "owner")
    manager = make_caller(conn, "fleet_manager", fleet_id=factories.fleet(conn).fleet_id)
    assert (
        client.put(f"/shops/{shop_id}/profile", json=PROFILE, headers=rival.headers).status_code
        == 404
    )
    assert client.get(f"/shops/{shop_id}/staff", headers=rival.headers).status_code == 404
    for caller in (owner, manager):
        refused = client.put(f"/shops/{shop_id}/profile", json=PROFILE, headers=caller.headers)
        assert refused.status_code == 403
        assert client.get(f"/shops/{shop_id}/staff", headers=caller.headers).status_code == 403
    address = conn.execute("SELECT address FROM shops WHERE shop_id = %s", (shop_id,))
    assert address.fetchone()[0] != PROFILE["address"]
