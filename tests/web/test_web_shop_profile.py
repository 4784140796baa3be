# SPDX-License-Identifier: MIT
"""The shop's profile over HTTP: its address, hours, bays, capabilities, brands, labour rate,
price list and currency as the API gives them, and its staff; saving changes the shop as
``GET /shops/{id}`` then shows it and fits the free slots to the new hours and bays; each
mistake is said next to its field with what was typed kept; only the shop's own staff see or
change it, every other role a plain 403, another shop's data never shown."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from factories import fleet, user
from shop_helpers import shop_staff
from test_web_sessions import csrf_of, sign_in
from web_helpers import AUTH, PASSWORD
from web_order_helpers import open_shops

from api.auth.tokens import issue_access_token
from web.profile import read_form


def shop_named(conn, name: str) -> int:
    return conn.execute("SELECT shop_id FROM shops WHERE name = %s", (name,)).fetchone()[0]


def api_shop(client, user_id: int, shop_id: int) -> dict:
    """The shop as the JSON API gives it to the same user."""
    token = issue_access_token(AUTH, user_id)
    response = client.get(f"/shops/{shop_id}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()


def form(token: str, **changes) -> dict:
    """A whole profile form, as the page sends it, with ``changes``."""
    data = {
        "csrf_token": token,
        "address": "Hauptstraße 1",
        "city": "München",
        "phone": "+49 89 1234 560",
        "hours_mon": "08:00-12:00, 13:00-18:00",
        "hours_tue": "08:00-18:00",
        "hours_wed": "08:00-18:00",
        "hours_thu": "08:00-18:00",
        "hours_fri": "08:00-16:00",
        "hours_sat": "",
        "hours_sun": "",
        "bays": "3",
        "brands": "Volkswagen, Audi",
        "labour_rate": "92.50",
        "currency": "EUR",
        "capability": ["oil_change", "brake_pads"],
        "price_job": ["OIL-CHG", "BRK-PAD-F", ""],
        "price_amount": ["95.00", "210", ""],
    }
    return data | changes


def test_the_profile_shows_the_shop_and_its_staff(client, conn):
    open_shops(conn)
    shop_id = shop_named(conn, "Becker Garage")
    staff = shop_staff(conn, shop_id)
    colleague = shop_staff(conn, shop_id, "colleague")
    rival = shop_staff(conn, shop_named(conn, "Isar Auto Service"), "rival")
    sign_in(client, staff.email)
    page = client.get("/app/shop/profile")
    assert page.status_code == 200
    text = page.text
    api = api_shop(client, staff.user_id, shop_id)
    assert api["address"] == "Hauptstraße 1" and api["currency"] == "EUR"
    assert "Becker Garage" in text and 'value="Hauptstraße 1"' in text
    assert 'name="hours_mon" value="07:00-19:00"' in text
    assert f'name="bays" min="1" max="100" value="{api["bays"]}"' in text
    assert 'value="oil_change" checked' in text and 'value="tyres" checked' not in text
    assert 'value="EUR"' in text and 'value="90.00"' in text  # the labour rate
    assert '<option value="OIL-CHG" selected>Oil change</option>' in text
    assert 'value="89.00"' in text
    assert 'href="/app/shop/profile" aria-current="page">Profile</a>' in text
    # The staff, read-only: this shop's, never another's.
    assert staff.email in text and colleague.email in text and rival.email not in text
    assert "Isar Auto Service" not in text and "99.00" not in text


def test_saving_changes_the_shop_as_the_api_shows_it(client, conn):
    now = datetime.now(UTC)
    open_shops(conn, now)
    shop_id = shop_named(conn, "Becker Garage")
    staff = shop_staff(conn, shop_id)
    sign_in(client, staff.email)
    token = csrf_of(client.get("/app/shop/profile").text)
    done = client.post("/app/shop/profile", data=form(token))
    assert done.status_code == 303 and done.headers["location"] == "/app/shop/profile?done=saved"
    page = client.get(done.headers["location"]).text
    assert "Saved. Owners and matching see the new profile from now on." in page
    api = api_shop(client, staff.user_id, shop_id)
    assert api["hours"]["mon"] == [["08:00", "12:00"], ["13:00", "18:00"]]
    assert api["hours"]["sat"] == [] and api["bays"] == 3
    assert api["capabilities"] == ["brake_pads", "oil_change"]
    assert api["brands"] == ["Volkswagen", "Audi"] and api["labour_rate_per_h"] == 92.5
    assert [(p["job_code"], p["price"]) for p in api["prices"]] == [
        ("BRK-PAD-F", 210.0),
        ("OIL-CHG", 95.0),
    ]
    # The free slots follow: none on a Saturday or at lunch, a third bay's where open.
    wrong = conn.execute(
        "SELECT count(*) FROM shop_slots WHERE shop_id = %s AND order_id IS NULL "
        "AND starts_at >= %s AND (extract(isodow FROM starts_at AT TIME ZONE 'Europe/Berlin') "
        "IN (6, 7) OR (starts_at AT TIME ZONE 'Europe/Berlin')::time < '08:00')",
        (shop_id, now),
    ).fetchone()[0]
    assert wrong == 0
    third = conn.execute(
        "SELECT count(*) FROM shop_slots WHERE shop_id = %s AND bay = 3 AND starts_at >= %s "
        "AND starts_at < %s",
        (shop_id, now, now + timedelta(days=7)),
    ).fetchone()[0]
    assert third > 0
    # Another shop is untouched.
    other = conn.execute(
        "SELECT bays, hours->'sat' FROM shops WHERE name = 'Isar Auto Service'"
    ).fetchone()
    assert other == (2, [["07:00", "19:00"]])


def test_each_mistake_is_said_by_its_field_and_nothing_is_saved(client, conn):
    open_shops(conn)
    shop_id = shop_named(conn, "Becker Garage")
    staff = shop_staff(conn, shop_id)
    sign_in(client, staff.email)
    token = csrf_of(client.get("/app/shop/profile").text)
    bad = form(
        token,
        hours_tue="8 till 6",
        hours_wed="18:00-08:00",
        bays="0",
        labour_rate="-3",
        currency="euro",
        capability=[],
        price_job=["OIL-CHG", "OIL-CHG", "NOPE"],
        price_amount=["95", "96", "1"],
    )
    refused = client.post("/app/shop/profile", data=bad)
    assert refused.status_code == 422
    text = refused.text
    assert "Nothing was saved. Please correct the fields marked below." in text
    for words in (
        "Write the hours as 08:00-18:00",
        "Each span opens before it closes",
        "A whole number of bays, from 1 to 100.",
        "An amount above zero with at most two decimals",
        "three-letter code, such as EUR or USD.",
        "Tick at least one kind of work the shop does.",
        "This job is on the list twice; keep one row.",
        "Pick a job for this price.",
    ):
        assert words in text, words
    assert 'value="8 till 6" aria-invalid="true"' in text and 'value="euro"' in text
    api = api_shop(client, staff.user_id, shop_id)
    assert (
        api["bays"] == 2
        and api["currency"] == "EUR"
        and api["hours"]["tue"] == [["07:00", "19:00"]]
    )


def test_the_form_reads_into_the_apis_update():
    values = {k: v for k, v in form("t").items() if isinstance(v, str) and k != "csrf_token"}
    typed, update = read_form(values, ["oil_change", "tyres", "flying"], ["", "DIAG"], ["", "60"])
    assert not typed.errors and update is not None
    assert update.capabilities == ["oil_change", "tyres"] and str(update.prices["DIAG"]) == "60"
    assert update.hours["sun"] == [] and update.address == "Hauptstraße 1"
    typed, update = read_form(values | {"labour_rate": "1.234"}, ["oil_change"], [], [])
    assert update is None and typed.errors == {"labour_rate": "money"}


def test_every_other_role_is_refused_and_nothing_changes(client, owner, conn):
    open_shops(conn)
    shop_id = shop_named(conn, "Becker Garage")
    manager = user(conn, "fleet_manager", password=PASSWORD, fleet_id=fleet(conn).fleet_id)
    admin = user(conn, "admin", password=PASSWORD)
    for person in (owner, manager, admin):
        client.cookies.clear()
        sign_in(client, person.email)
        page = client.get("/app/shop/profile")
        assert page.status_code == 403 and "Only for shop staff" in page.text
        assert "Becker Garage" not in page.text
        token = csrf_of(client.get("/app/settings").text)
        refused = client.post("/app/shop/profile", data=form(token, bays="9"))
        assert refused.status_code == 403
    assert conn.execute("SELECT bays FROM shops WHERE shop_id = %s", (shop_id,)).fetchone()[0] == 2
    nav = client.get("/app/cars").text
    assert not re.search(r'href="/app/shop/(calendar|profile)"', nav)


def role_of(conn, user_id: int) -> str:
    return conn.execute("SELECT shop_role FROM users WHERE user_id = %s", (user_id,)).fetchone()[0]


def test_a_technician_sees_the_profile_read_only_and_cannot_save(client, conn):
    open_shops(conn)
    shop_id = shop_named(conn, "Becker Garage")
    boss = shop_staff(conn, shop_id, "boss")
    tech = shop_staff(conn, shop_id, "tech")
    assert (role_of(conn, boss.user_id), role_of(conn, tech.user_id)) == ("manager", "technician")
    sign_in(client, tech.email)
    page = client.get("/app/shop/profile")
    assert page.status_code == 200
    assert "You see the profile read-only" in page.text
    assert re.search(r'<fieldset class="profile-all" disabled>', page.text)
    assert "Save the profile" not in page.text and "Change the role" not in page.text
    assert "Manager" in page.text and "Technician" in page.text
    token = csrf_of(page.text)
    refused = client.post("/app/shop/profile", data=form(token, bays="9"))
    assert refused.status_code == 403 and "you are a technician" in refused.text
    assert conn.execute("SELECT bays FROM shops WHERE shop_id = %s", (shop_id,)).fetchone()[0] == 2
    promote = client.post(
        f"/app/shop/profile/staff/{tech.user_id}",
        data={"csrf_token": token, "shop_role": "manager"},
    )
    assert promote.status_code == 403 and role_of(conn, tech.user_id) == "technician"
    # The technician's work is unchanged: the inbox and calendar open.
    assert client.get("/app/shop/calendar").status_code == 200


def test_a_manager_changes_a_role_but_never_leaves_the_shop_without_one(client, conn):
    open_shops(conn)
    shop_id = shop_named(conn, "Becker Garage")
    boss = shop_staff(conn, shop_id, "boss")
    tech = shop_staff(conn, shop_id, "tech")
    rival = shop_staff(conn, shop_named(conn, "Isar Auto Service"), "rival")
    sign_in(client, boss.email)
    page = client.get("/app/shop/profile")
    assert "Change the role" in page.text and "read-only" not in page.text
    token = csrf_of(page.text)

    def change(user_id: int, shop_role: str):
        return client.post(
            f"/app/shop/profile/staff/{user_id}",
            data={"csrf_token": token, "shop_role": shop_role},
        )

    done = change(tech.user_id, "manager")
    assert done.status_code == 303 and done.headers["location"].endswith("?done=role")
    assert role_of(conn, tech.user_id) == "manager"
    assert "The role was changed." in client.get("/app/shop/profile?done=role").text
    # Another shop's person is not on this staff: a 404 and nothing changes.
    assert change(rival.user_id, "technician").status_code == 404
    assert role_of(conn, rival.user_id) == "manager"
    # Back to technician: then the boss is the only manager left...
    assert change(tech.user_id, "technician").status_code == 303
    # ...and the last manager cannot be made technician (through the API, since the page
    # offers no form for oneself).
    token_api = issue_access_token(AUTH, boss.user_id)
    last = client.put(
        f"/shops/{shop_id}/staff/{boss.user_id}",
        json={"shop_role": "technician"},
        headers={"Authorization": f"Bearer {token_api}"},
    )
    assert last.status_code == 409 and "only manager" in last.json()["detail"]
    assert role_of(conn, boss.user_id) == "manager"
    # The web form refuses the same in words.
    refused = change(boss.user_id, "technician")
    assert refused.status_code == 409 and "the shop's only manager" in refused.text
    assert role_of(conn, boss.user_id) == "manager"
