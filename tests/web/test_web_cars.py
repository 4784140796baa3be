# SPDX-License-Identifier: MIT
"""My cars: the cards show what GET /vehicles/{id}/health says, only of the owner's cars, in
the owner's units; another owner's car is a plain-words 404."""

from __future__ import annotations

import re

from test_web_sessions import csrf_of, sign_in
from web_helpers import AUTH, make_car, make_owner

from api.auth.tokens import issue_access_token


def api_health(client, user_id: int, vehicle_id: int) -> dict:
    """The car's health as the JSON API gives it to the same user."""
    token = issue_access_token(AUTH, user_id)
    response = client.get(
        f"/vehicles/{vehicle_id}/health", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    return response.json()


def card_of(html: str, vehicle_id: int) -> str:
    """The HTML of one car's card."""
    found = re.search(
        rf'<article class="card" aria-labelledby="car-{vehicle_id}">.*?</article>', html, re.S
    )
    assert found is not None
    return found.group(0)


def test_the_cards_show_the_apis_health(client, owner, conn):
    mine = make_car(conn, owner, vin="WLWEB000000000001")
    second = make_car(conn, owner, vin="WLWEB000000000002", oil_pct=72.0)
    someone = make_owner(conn, "someone")
    theirs = make_car(conn, someone, vin="WLWEB000000000003")
    sign_in(client, owner.email)
    page = client.get("/app/cars")
    assert page.status_code == 200
    assert "WLWEB000000000003" not in page.text and f"car-{theirs}" not in page.text
    for vehicle_id in (mine, second):
        health = api_health(client, owner.user_id, vehicle_id)
        card = card_of(page.text, vehicle_id)
        oil, pads = health["oil"], health["brake_pads"]
        assert f"{oil['oil_life_pct']:.1f} %" in card
        word = {"good": "Good", "due_soon": "Due soon", "overdue": "Change now"}
        assert word[oil["band"]] in card and word[pads["band"]] in card
        thinner = min(pads["pad_front_mm"], pads["pad_rear_mm"])
        assert f"{thinner:.1f} mm" in card
        assert "Front 6.1 mm, rear 8.3 mm." in card
        low, high = oil["life_band_pct"]
        assert f"Likely between {low:.1f} % and {high:.1f} % left." in card
        assert "P0301: cylinder 1 misfire detected (high urgency)" in card
        assert "48,213 km" in card
    # The date between the ones the band's edges reach the tier (12.9 and 15.4 % of 14.2 %).
    assert "Next: due now in 7 to 10 days, about 396 km (" in card_of(page.text, mine)
    assert "Next: due soon in 53 to 56 days, about 2,451 km (" in card_of(page.text, second)


def test_a_tier_is_said_in_words_and_an_icon_not_colour_alone(client, owner, conn):
    vehicle_id = make_car(conn, owner, vin="WLWEB000000000004")
    sign_in(client, owner.email)
    card = card_of(client.get("/app/cars").text, vehicle_id)
    assert (
        '<span class="tier tier-due_soon"><span aria-hidden="true">!</span> Due soon</span>' in card
    )


def test_another_owners_car_is_a_plain_404(client, owner, conn):
    someone = make_owner(conn, "someone")
    theirs = make_car(conn, someone, vin="WLWEB000000000005")
    sign_in(client, owner.email)
    refused = client.get(f"/app/cars/{theirs}")
    missing = client.get("/app/cars/999999999")
    assert refused.status_code == missing.status_code == 404
    assert f"There is no car {theirs} among your cars." in refused.text
    assert "WLWEB000000000005" not in refused.text
    assert client.get("/app/cars/99999999999999999999").status_code == 422


def test_ones_own_car_has_its_page(client, owner, conn):
    vehicle_id = make_car(conn, owner, vin="WLWEB000000000006")
    sign_in(client, owner.email)
    page = client.get(f"/app/cars/{vehicle_id}")
    assert page.status_code == 200 and "Volkswagen Golf 2019" in page.text


def test_miles_for_an_owner_who_chose_them(client, owner, conn):
    make_car(conn, owner, vin="WLWEB000000000007")
    sign_in(client, owner.email)
    page = client.get("/app/cars")
    client.post(
        "/app/preferences",
        data={"units": "imperial", "back": "/app/cars", "csrf_token": csrf_of(page.text)},
    )
    assert conn.execute(
        "SELECT units FROM users WHERE user_id = %s", (owner.user_id,)
    ).fetchone() == ("imperial",)
    page = client.get("/app/cars")
    assert "29,958 mi" in page.text and "about 246 mi (" in page.text


def test_htmx_gets_the_cards_block_alone(client, owner, conn):
    vehicle_id = make_car(conn, owner, vin="WLWEB000000000008")
    sign_in(client, owner.email)
    fragment = client.get("/app/cars", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="cards"')
    assert "<html" not in fragment.text and f"car-{vehicle_id}" in fragment.text


def test_preferences_return_only_to_this_app(client, owner):
    page = client.get("/app/signin")
    for back in ("https://evil.example/", "//evil.example/app/", "/elsewhere"):
        response = client.post(
            "/app/preferences",
            data={"language": "en", "back": back, "csrf_token": csrf_of(page.text)},
        )
        assert response.headers["location"] == "/app/"
