# SPDX-License-Identifier: MIT
"""The fleet's map: each vehicle with a home drawn where it is based, in its worst part's
colour and linked to its page; the shops around the fleet and not those far away; towns for
orientation; a vehicle without a home counted, not drawn; nobody else's vehicles; the same
refusals as the rest of the dashboard."""

from __future__ import annotations

import re

from factories import shop
from fleet_helpers import fleet_car, manager, new_fleet
from test_web_sessions import sign_in

from web.fleet_map import HEIGHT, WIDTH, _projection

MUNICH = (48.137, 11.575)


def drawn_vehicles(html: str) -> dict[int, tuple[str, float, float]]:
    """Vehicle id → (tier class, x, y) of each vehicle drawn on the map."""
    found = re.findall(
        r'<a href="/app/fleet/vehicles/(\d+)" class="map-vehicle tier-([a-z_]+)">\s*'
        r'<circle cx="([\d.]+)" cy="([\d.]+)"',
        html,
    )
    return {int(v): (tier, float(x), float(y)) for v, tier, x, y in found}


def test_the_map_draws_the_fleet_the_shops_near_it_and_nothing_else(client, conn):
    fleet_id = new_fleet(conn)
    boss = manager(conn, fleet_id)
    north = fleet_car(conn, fleet_id, vin="WLMAP000000000001", home=(48.20, 11.58))
    east = fleet_car(conn, fleet_id, vin="WLMAP000000000002", home=(48.13, 11.70), pad_mm=2.5)
    fine = fleet_car(conn, fleet_id, vin="WLMAP000000000003", home=MUNICH)
    homeless = fleet_car(conn, fleet_id, vin="WLMAP000000000004")
    stranger = fleet_car(conn, new_fleet(conn, "Other"), vin="WLMAP000000000005", home=MUNICH)
    shop(conn, name="Isar Motor Works", lat=48.15, lon=11.60)
    shop(conn, name="Spree Garage", lat=52.52, lon=13.40)  # Berlin: far from the fleet
    sign_in(client, boss.email)
    page = client.get("/app/fleet/map")
    assert page.status_code == 200
    drawn = drawn_vehicles(page.text)
    assert set(drawn) == {north.vehicle_id, east.vehicle_id, fine.vehicle_id}
    assert homeless.vehicle_id not in drawn and stranger.vehicle_id not in drawn
    assert "WLMAP000000000005" not in page.text
    assert "not on the map: 1" in page.text
    assert drawn[east.vehicle_id][0] == "change_now" and drawn[fine.vehicle_id][0] == "good"
    # North up, east right, and everything inside the drawing.
    assert drawn[north.vehicle_id][2] < drawn[fine.vehicle_id][2]
    assert drawn[east.vehicle_id][1] > drawn[fine.vehicle_id][1]
    for _tier, x, y in drawn.values():
        assert 0 <= x <= WIDTH and 0 <= y <= HEIGHT
    assert "Isar Motor Works" in page.text and "Spree Garage" not in page.text
    assert "Munich" in page.text  # a town to find one's way
    assert 'href="/app/fleet/map" aria-current="page">Map</a>' in page.text


def test_a_fleet_with_no_homes_says_so(client, conn):
    fleet_id = new_fleet(conn)
    boss = manager(conn, fleet_id)
    fleet_car(conn, fleet_id, vin="WLMAP000000000006")
    sign_in(client, boss.email)
    page = client.get("/app/fleet/map")
    assert page.status_code == 200
    assert "nothing to draw" in page.text and "<svg viewBox" not in page.text


def test_another_fleet_and_an_owner_are_refused(client, conn, owner):
    fleet_id = new_fleet(conn)
    fleet_car(conn, fleet_id, vin="WLMAP000000000007", home=MUNICH)
    other = manager(conn, new_fleet(conn, "Other"))
    sign_in(client, other.email)
    response = client.get("/app/fleet/map", params={"fleet_id": fleet_id})
    assert response.status_code == 404 and "WLMAP" not in response.text
    client.cookies.clear()
    sign_in(client, owner.email)
    response = client.get("/app/fleet/map", params={"fleet_id": fleet_id})
    assert response.status_code == 403 and "WLMAP" not in response.text


def test_the_projection_keeps_distances_true_in_both_directions():
    """10 km east and 10 km north are the same length on the drawing (a map that squashes
    one direction would misjudge which shop is nearer)."""
    lat0, lon0 = MUNICH
    project = _projection([(lat0 - 0.2, lon0 - 0.2), (lat0 + 0.2, lon0 + 0.2)])
    x0, y0 = project(lat0, lon0)
    dlat = 10 / 111.32
    dlon = dlat / 0.6678  # cos(48.137°)
    x1, _ = project(lat0, lon0 + dlon)
    _, y1 = project(lat0 + dlat, lon0)
    assert abs((x1 - x0) - (y0 - y1)) < 0.01 * (y0 - y1)
