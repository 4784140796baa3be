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


def test_a_technician_reads_the_profile_but_may_not_change_it_or_roles(client, conn):
    shop_id = factories.shop(conn, name="Roles Garage").shop_id
    manager = make_caller(conn, "shop_staff", shop_id=shop_id)  # the shop's first: manager
    tech = make_caller(conn, "shop_staff", shop_id=shop_id)  # later ones: technicians
    listed = client.get(f"/shops/{shop_id}/staff", headers=tech.headers).json()
    assert {s["user_id"]: s["shop_role"] for s in listed} == {
        manager.user_id: "manager",
        tech.user_id: "technician",
    }
    refused = client.put(f"/shops/{shop_id}/profile", json=PROFILE, headers=tech.headers)
    assert refused.status_code == 403
    problem = refused.json()
    assert problem["type"].endswith("/shop-manager-only") and "ask one of" in problem["detail"]
    assert client.get(f"/shops/{shop_id}", headers=tech.headers).json()["bays"] != 3
    grab = client.put(
        f"/shops/{shop_id}/staff/{tech.user_id}",
        json={"shop_role": "manager"},
        headers=tech.headers,
    )
    assert grab.status_code == 403
    # The technician still works the shop's inbox.
    assert client.get(f"/shops/{shop_id}/offers", headers=tech.headers).status_code == 200


def test_a_manager_sets_roles_and_the_shop_keeps_a_manager(client, conn):
    shop_id = factories.shop(conn, name="Roles Garage").shop_id
    manager = make_caller(conn, "shop_staff", shop_id=shop_id)
    tech = make_caller(conn, "shop_staff", shop_id=shop_id)
    rival = make_caller(conn, "shop_staff", shop_id=factories.shop(conn, name="Rival").shop_id)
    url = f"/shops/{shop_id}/staff"
    last = client.put(
        f"{url}/{manager.user_id}", json={"shop_role": "technician"}, headers=manager.headers
    )
    assert last.status_code == 409 and last.json()["type"].endswith("/last-manager")
    assert "only manager" in last.json()["detail"]
    up = client.put(f"{url}/{tech.user_id}", json={"shop_role": "manager"}, headers=manager.headers)
    assert up.status_code == 200 and up.json()["shop_role"] == "manager", up.text
    # With two managers, one may step down; the new manager now edits the profile.
    down = client.put(
        f"{url}/{manager.user_id}", json={"shop_role": "technician"}, headers=manager.headers
    )
    assert down.status_code == 200 and down.json()["shop_role"] == "technician"
    assert client.put(f"/shops/{shop_id}/profile", json=PROFILE, headers=tech.headers).is_success
    # Another shop's person is not this shop's staff; a made-up role is a 422.
    other = client.put(
        f"{url}/{rival.user_id}", json={"shop_role": "manager"}, headers=tech.headers
    )
    assert other.status_code == 404
    odd = client.put(f"{url}/{manager.user_id}", json={"shop_role": "boss"}, headers=tech.headers)
    assert odd.status_code == 422


def test_invited_staff_get_a_role(client, conn):
    admin = make_caller(conn, "admin")
    shop_id = factories.shop(conn, name="Invite Garage").shop_id

    def invite(email: str, **extra) -> dict:
        body = {"email": email, "role": "shop_staff", "shop_id": shop_id} | extra
        made = client.post("/auth/invitations", json=body, headers=admin.headers)
        assert made.status_code == 201, made.text
        doc = made.json()
        done = client.post(doc["accept_url"], json={"token": doc["token"], "password": "x" * 12})
        assert done.status_code == 201, done.text
        return doc

    # The first into a shop without a manager is its manager; after that technicians,
    # unless the admin says otherwise.
    assert invite("first@roles.example")["shop_role"] == "manager"
    assert invite("second@roles.example")["shop_role"] == "technician"
    assert invite("third@roles.example", shop_role="manager")["shop_role"] == "manager"
    roles = dict(
        conn.execute("SELECT email, shop_role FROM users WHERE shop_id = %s", (shop_id,)).fetchall()
    )
    assert roles == {
        "first@roles.example": "manager",
        "second@roles.example": "technician",
        "third@roles.example": "manager",
    }
