# SPDX-License-Identifier: MIT
"""Onboarding through the API: an admin makes fleets and shops and invites their people; shops
apply and wait for verification; a fleet manager adds cars by VIN."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import factories
import pytest
from api_helpers import make_caller

from api.auth.invitations import invite
from orders.matching import MatchRequest, find_candidates, nearest_shops

PASSWORD = "correct horse battery"
SHOP = {
    "name": "Lake St Garage",
    "city": "Oak Park",
    "country": "US",
    "timezone": "America/Chicago",
    "lat": 41.885,
    "lon": -87.784,
    "capabilities": ["oil_change", "brake_pads"],
    "hours": {"mon": [["07:30", "18:00"]]},
    "currency": "USD",
    "prices": {"OIL-CHG": "89.00"},
}


def _sign_in(client, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _invite_and_accept(client, admin_headers, **body) -> dict[str, str]:
    invited = client.post("/auth/invitations", json=body, headers=admin_headers)
    assert invited.status_code == 201, invited.text
    doc = invited.json()
    assert doc["accept_url"].endswith("/auth/invitations/accept")
    accepted = client.post(doc["accept_url"], json={"token": doc["token"], "password": PASSWORD})
    assert accepted.status_code == 201, accepted.text
    return _sign_in(client, body["email"])


def test_an_admin_makes_a_fleet_whose_invited_manager_adds_cars(client, admin, conn):
    fleet = client.post("/fleets", json={"name": "Becker Logistics"}, headers=admin.headers)
    assert fleet.status_code == 201, fleet.text
    fleet_id = fleet.json()["fleet_id"]
    manager = _invite_and_accept(
        client, admin.headers, email="dana@becker.example", role="fleet_manager", fleet_id=fleet_id
    )
    assert [f["fleet_id"] for f in client.get("/fleets", headers=manager).json()["items"]] == [
        fleet_id
    ]
    add = f"/fleets/{fleet_id}/vehicles"
    new = client.post(add, json={"vin": "WLFLEET0000000001", "make": "Ford"}, headers=manager)
    assert new.status_code == 201 and new.json()["fleet_id"] == fleet_id, new.text
    again = client.post(add, json={"vin": "WLFLEET0000000001"}, headers=manager)
    assert again.status_code == 200 and again.json()["vehicle_id"] == new.json()["vehicle_id"]
    # A car the platform knows, held by nobody (a dongle reported it), joins the fleet.
    factories.vehicle(conn, vin="WLFREE00000000001")
    free = client.post(add, json={"vin": "WLFREE00000000001"}, headers=manager)
    assert free.status_code == 200 and free.json()["fleet_id"] == fleet_id
    # An owner's car, or another fleet's, is refused with the reason.
    owner = make_caller(conn, "owner")
    other = factories.fleet(conn, name="Other")
    factories.vehicle(conn, vin="WLHELD00000000001", owner_user_id=owner.user_id)
    factories.vehicle(conn, vin="WLTHER00000000001", fleet_id=other.fleet_id)
    for vin, kind, hint in (
        ("WLHELD00000000001", "vehicle-owned", "owner must release"),
        ("WLTHER00000000001", "vehicle-in-another-fleet", "fleet manager must remove"),
    ):
        refused = client.post(add, json={"vin": vin}, headers=manager)
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"] == f"/problems/{kind}" and hint in refused.json()["detail"]
    # The other fleet lets the car go; then it may join this one.
    other_manager = make_caller(conn, "fleet_manager", fleet_id=other.fleet_id)
    other_vehicle = conn.execute(
        "SELECT vehicle_id FROM vehicles WHERE vin = 'WLTHER00000000001'"
    ).fetchone()[0]
    gone = f"/fleets/{other.fleet_id}/vehicles/{other_vehicle}"
    assert client.delete(gone, headers=manager).status_code == 404  # not this manager's fleet
    assert client.delete(gone, headers=other_manager.headers).status_code == 200
    assert client.delete(gone, headers=other_manager.headers).status_code == 404  # not in it now
    joined = client.post(add, json={"vin": "WLTHER00000000001"}, headers=manager)
    assert joined.status_code == 200 and joined.json()["fleet_id"] == fleet_id
    conn.execute(
        "UPDATE vehicles SET fleet_id = %s WHERE vehicle_id = %s", (other.fleet_id, other_vehicle)
    )
    held = conn.execute(
        "SELECT vin, fleet_id, owner_user_id FROM vehicles "
        "WHERE vin IN ('WLHELD00000000001', 'WLTHER00000000001') ORDER BY vin"
    ).fetchall()
    assert held == [
        ("WLHELD00000000001", None, owner.user_id),
        ("WLTHER00000000001", other.fleet_id, None),
    ]


def test_an_invitation_works_once_before_it_expires(client, admin, conn):
    fleet_id = factories.fleet(conn, name="F").fleet_id
    made = client.post(
        "/auth/invitations",
        json={"email": "once@example.test", "role": "fleet_manager", "fleet_id": fleet_id},
        headers=admin.headers,
    ).json()
    token = made["token"]
    # Only its hash is stored.
    row = conn.execute("SELECT token_sha256 FROM invitations").fetchone()
    assert token not in row[0]
    first = client.post("/auth/invitations/accept", json={"token": token, "password": PASSWORD})
    assert first.status_code == 201 and first.json()["role"] == "fleet_manager"
    second = client.post("/auth/invitations/accept", json={"token": token, "password": "x" * 12})
    assert second.status_code == 410 and "used already" in second.json()["detail"]
    _sign_in(client, "once@example.test")  # the first password stands
    unknown = client.post("/auth/invitations/accept", json={"token": "nope", "password": PASSWORD})
    assert unknown.status_code == 404 and "ask whoever invited you" in unknown.json()["detail"]
    # Expired: made a fortnight ago with a week's validity.
    old = invite(
        conn=conn,
        email="late@example.test",
        role="owner",
        now=datetime.now(UTC) - timedelta(days=14),
    )
    late = client.post("/auth/invitations/accept", json={"token": old.token, "password": PASSWORD})
    assert late.status_code == 410 and "expired" in late.json()["detail"]
    assert conn.execute("SELECT 1 FROM users WHERE email = 'late@example.test'").fetchone() is None


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"email": "a@x.test", "role": "fleet_manager", "fleet_id": 999}, 404, "create-fleet"),
        ({"email": "a@x.test", "role": "shop_staff", "shop_id": 999}, 404, "create-shop"),
        ({"email": "a@x.test", "role": "shop_staff"}, 409, "give shop_id"),
    ],
)
def test_invitations_into_nothing_say_what_to_do(admin_client, body, status, words):
    response = admin_client.post("/auth/invitations", json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert words in response.json()["detail"]


def test_an_existing_users_email_cannot_be_invited(admin_client, admin, conn):
    make_caller(conn, "owner")  # someone else
    email = conn.execute("SELECT email FROM users WHERE role = 'owner'").fetchone()[0]
    response = admin_client.post("/auth/invitations", json={"email": email, "role": "owner"})
    assert response.status_code == 409 and "POST /auth/token" in response.json()["detail"]


def _candidates(conn) -> set[int]:
    now = datetime.now(UTC)
    request = MatchRequest(
        lat=41.885,
        lon=-87.784,
        capabilities=("oil_change",),
        job_codes=("OIL-CHG",),
        after=now,
        before=now + timedelta(days=30),
    )
    near = nearest_shops(conn=conn, lat=41.885, lon=-87.784, capability="oil_change", limit=10)
    found = {c.shop_id for c in find_candidates(conn=conn, request=request)}
    return found | {m.shop_id for m in near}


def _add_slot(conn, shop_id: int) -> None:
    start = datetime.now(UTC) + timedelta(days=2)
    conn.execute(
        "INSERT INTO shop_slots (shop_id, bay, starts_at, ends_at) VALUES (%s, 1, %s, %s)",
        (shop_id, start, start + timedelta(hours=2)),
    )


def test_a_shop_that_applied_gets_no_orders_until_an_admin_verifies_it(client, admin, conn):
    application = SHOP | {"contact_email": "sam@lakest.example", "password": PASSWORD}
    applied = client.post("/auth/shop-applications", json=application)
    assert applied.status_code == 201, applied.text
    shop = applied.json()["shop"]
    assert shop["verified"] is False and shop["verified_at"] is None
    _add_slot(conn, shop["shop_id"])
    assert shop["shop_id"] not in _candidates(conn)
    # The applicant signs in as the shop's staff and sees their shop, waiting.
    staff = _sign_in(client, "sam@lakest.example")
    mine = client.get("/shops", headers=staff).json()["items"]
    assert [(s["shop_id"], s["verified"]) for s in mine] == [(shop["shop_id"], False)]
    owner = make_caller(conn, "owner")
    assert client.get("/shops", headers=owner.headers).json()["items"] == []
    assert client.post(f"/shops/{shop['shop_id']}/verify", headers=staff).status_code == 403
    verified = client.post(f"/shops/{shop['shop_id']}/verify", headers=admin.headers)
    assert verified.status_code == 200 and verified.json()["verified"] is True
    assert shop["shop_id"] in _candidates(conn)
    listed = client.get("/shops", headers=owner.headers).json()["items"]
    assert [s["shop_id"] for s in listed] == [shop["shop_id"]]
    # Applying again with the same contact is refused with what to do, and leaves no shop.
    again = client.post("/auth/shop-applications", json=application | {"name": "Again"})
    assert again.status_code == 409 and "another contact email" in again.json()["detail"]
    assert conn.execute("SELECT count(*) FROM shops").fetchone()[0] == 1


def test_shops_made_by_an_admin_or_the_import_are_verified(client, admin, conn):
    made = client.post("/shops", json=SHOP, headers=admin.headers)
    assert made.status_code == 201 and made.json()["verified"] is True, made.text
    prices = conn.execute("SELECT job_code, price FROM shop_prices").fetchall()
    assert [(j, float(p)) for j, p in prices] == [("OIL-CHG", 89.0)]
    # Written as the directory import writes it: verified by the column's default.
    imported = factories.shop(
        conn, name="Imported", lat=41.88, lon=-87.78, capabilities=["oil_change"]
    ).shop_id
    for shop_id in (made.json()["shop_id"], imported):
        _add_slot(conn, shop_id)
    assert {made.json()["shop_id"], imported} <= _candidates(conn)
    bad = client.post("/shops", json=SHOP | {"timezone": "Mars/Olympus"}, headers=admin.headers)
    assert bad.status_code == 422 and "unknown time zone" in bad.text
    owner = make_caller(conn, "owner")
    assert client.post("/shops", json=SHOP, headers=owner.headers).status_code == 403
    assert client.post("/fleets", json={"name": "x"}, headers=owner.headers).status_code == 403
