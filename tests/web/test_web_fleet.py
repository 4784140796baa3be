# SPDX-License-Identifier: MIT
"""The fleet manager's dashboard over HTTP: the health table is the API's fleet health for the
same fleet, filtered, sorted and searched by GET forms; the due list holds what comes due
within 30 days and not what comes later; the CSV has the same rows, unformatted numbers and no
formula a spreadsheet would run; another fleet's manager sees none of it, an owner gets the
API's 403."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

from factories import order, user
from fleet_helpers import fleet_car, manager, new_fleet
from test_web_sessions import sign_in
from web_helpers import AUTH, PASSWORD

from api.auth.tokens import issue_access_token


def api_health(client, user_id: int, fleet_id: int) -> list[dict]:
    """The fleet's health as the JSON API gives it to the same user."""
    token = issue_access_token(AUTH, user_id)
    response = client.get(
        f"/fleets/{fleet_id}/health",
        params={"limit": 1000},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


def rows_of(html: str) -> list[int]:
    """The vehicle ids of the table's rows, in order."""
    return [int(i) for i in re.findall(r'<tr id="vehicle-(\d+)">', html)]


def a_fleet(conn):
    """A fleet of five cars in every state, and its manager."""
    now = datetime.now(UTC)
    fleet_id = new_fleet(conn)
    cars = {
        "ok": fleet_car(conn, fleet_id, vin="WLFLT000000000001", make="Ford", model="Transit"),
        "oil_soon": fleet_car(
            conn,
            fleet_id,
            vin="WLFLT000000000002",
            make="Volkswagen",
            model="Crafter",
            oil_pct=12.0,
            now=now,
        ),
        "pads_now": fleet_car(
            conn,
            fleet_id,
            vin="WLFLT000000000003",
            make="Mercedes",
            model="Sprinter",
            pad_mm=2.5,
            now=now,
        ),
        "codes": fleet_car(
            conn,
            fleet_id,
            vin="WLFLT000000000004",
            make="Renault",
            model="Master",
            codes=("P0301", "P0420"),
            urgency="critical",
            now=now,
        ),
        "offline": fleet_car(
            conn,
            fleet_id,
            vin="WLFLT000000000005",
            make="@Iveco",
            model="=Daily",
            seen=timedelta(days=3),
            now=now,
        ),
    }
    return fleet_id, manager(conn, fleet_id), cars


def test_the_table_is_the_apis_fleet_health_worst_first(client, conn):
    fleet_id, boss, cars = a_fleet(conn)
    response = sign_in(client, boss.email)
    assert response.status_code == 303
    assert client.get("/app/").headers["location"] == "/app/fleet"
    page = client.get("/app/fleet")
    assert page.status_code == 200
    text = page.text
    api = api_health(client, boss.user_id, fleet_id)
    assert sorted(rows_of(text)) == sorted(v["vehicle_id"] for v in api)
    # Worst first: pads to change now, then oil due soon, codes, offline, fine.
    order_ids = [cars[k].vehicle_id for k in ("pads_now", "oil_soon", "codes", "offline", "ok")]
    assert rows_of(text) == order_ids
    for v in api:
        assert v["vin"] in text
        assert f'href="/app/fleet/vehicles/{v["vehicle_id"]}"' in text
    assert "12.0 %" in text and "Due soon" in text  # the oil's tier in words, not colour
    assert "2.5 mm" in text and "Change now" in text
    assert "critical" in text and "P0301 P0420" in text
    assert "48,213 km" in text
    assert 'href="/app/fleet" aria-current="page">Fleet</a>' in text
    assert "5 of 5 vehicles match." in text
    # The row's link opens the vehicle's page, which the manager may see.
    car = client.get(f"/app/fleet/vehicles/{cars['codes'].vehicle_id}")
    assert car.status_code == 200 and "WLFLT000000000004" in car.text


def test_filter_sort_search_and_units(client, conn):
    _fleet_id, boss, cars = a_fleet(conn)
    sign_in(client, boss.email)
    attention = rows_of(client.get("/app/fleet", params={"state": "attention"}).text)
    assert cars["ok"].vehicle_id not in attention and len(attention) == 4
    assert rows_of(client.get("/app/fleet", params={"state": "due_soon"}).text) == [
        cars["oil_soon"].vehicle_id
    ]
    assert rows_of(client.get("/app/fleet", params={"state": "change_now"}).text) == [
        cars["pads_now"].vehicle_id
    ]
    assert rows_of(client.get("/app/fleet", params={"state": "offline"}).text) == [
        cars["offline"].vehicle_id
    ]
    # Search by a piece of the VIN, or of the name, in any case.
    assert rows_of(client.get("/app/fleet", params={"q": "00000000004"}).text) == [
        cars["codes"].vehicle_id
    ]
    assert rows_of(client.get("/app/fleet", params={"q": "sprinter"}).text) == [
        cars["pads_now"].vehicle_id
    ]
    assert "No vehicle matches." in client.get("/app/fleet", params={"q": "nothing"}).text
    by_oil = rows_of(client.get("/app/fleet", params={"sort": "oil"}).text)
    assert by_oil[0] == cars["oil_soon"].vehicle_id
    by_codes = rows_of(client.get("/app/fleet", params={"sort": "codes"}).text)
    assert by_codes[0] == cars["codes"].vehicle_id
    by_seen = rows_of(client.get("/app/fleet", params={"sort": "last_seen"}).text)
    assert by_seen[0] == cars["offline"].vehicle_id
    # An unknown value is the default, never an error.
    assert client.get("/app/fleet", params={"sort": "nope", "state": "x"}).status_code == 200
    # htmx swaps the table alone.
    fragment = client.get("/app/fleet", params={"state": "offline"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and 'id="fleet-table"' in fragment.text
    # Miles for a user who chose them.
    conn.execute("UPDATE users SET units = 'imperial' WHERE user_id = %s", (boss.user_id,))
    assert "29,958 mi" in client.get("/app/fleet").text


def test_a_large_fleet_is_paged(client, conn):
    fleet_id = new_fleet(conn)
    boss = manager(conn, fleet_id)
    for n in range(55):
        fleet_car(conn, fleet_id, vin=f"WLPAG{n:012d}", oil_pct=None, pad_mm=None)
    sign_in(client, boss.email)
    first = client.get("/app/fleet", params={"sort": "vin"}).text
    assert len(rows_of(first)) == 50 and "Page 1 of 2" in first
    assert "page=2" in first
    second = client.get("/app/fleet", params={"sort": "vin", "page": 2}).text
    assert len(rows_of(second)) == 5 and "WLPAG000000000054" in second


def test_the_due_list_holds_what_comes_due_within_30_days(client, conn, owner):
    now = datetime.now(UTC)
    fleet_id = new_fleet(conn)
    boss = manager(conn, fleet_id)
    # 12 % oil: due (5 %) in 7 % × 43 km = 301 km, under 7 days at 45 km a day.
    soon = fleet_car(conn, fleet_id, vin="WLDUE000000000001", oil_pct=12.0, now=now)
    # 90 % oil: due in 3,655 km, 81 days: not within 30 days or 3,000 km.
    later = fleet_car(conn, fleet_id, vin="WLDUE000000000002", oil_pct=90.0, now=now)
    coded = fleet_car(conn, fleet_id, vin="WLDUE000000000003", codes=("P0301",), now=now)
    pending = order(conn, soon.vehicle_id, status="scheduled", component="oil_change")
    sign_in(client, boss.email)
    page = client.get("/app/fleet/due")
    assert page.status_code == 200
    text = page.text
    assert "WLDUE000000000001" in text and "WLDUE000000000002" not in text
    assert "WLDUE000000000003" in text and "P0301: test fault" in text
    assert f'href="/app/orders/{pending.order_id}"' in text
    assert "301 km" in text
    # By date: the code, raised now, comes before the oil due in a week.
    assert text.index("WLDUE000000000003") < text.index("WLDUE000000000001")
    assert later.vehicle_id not in {soon.vehicle_id, coded.vehicle_id}


def test_the_csv_has_the_rows_raw_numbers_and_no_formulas(client, conn):
    fleet_id, boss, cars = a_fleet(conn)
    sign_in(client, boss.email)
    response = client.get("/app/fleet/health.csv", params={"state": "attention"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == (
        f'attachment; filename="fleet-{fleet_id}-health.csv"'
    )
    found = list(csv.DictReader(io.StringIO(response.text)))
    assert {r["vehicle_id"] for r in found} == {
        str(cars[k].vehicle_id) for k in ("oil_soon", "pads_now", "codes", "offline")
    }
    by_id = {int(r["vehicle_id"]): r for r in found}
    assert by_id[cars["oil_soon"].vehicle_id]["oil_life_pct"] == "12.0"
    assert by_id[cars["oil_soon"].vehicle_id]["odometer_km"] == "48213.4"
    assert by_id[cars["codes"].vehicle_id]["trouble_codes"] == "P0301 P0420"
    assert by_id[cars["codes"].vehicle_id]["worst_urgency"] == "critical"
    offline = by_id[cars["offline"].vehicle_id]
    assert offline["make"] == "'@Iveco" and offline["model"] == "'=Daily"
    assert offline["status"] == "offline"
    # Only a header for a search that finds nothing.
    empty = client.get("/app/fleet/health.csv", params={"q": "nothing"}).text
    assert empty.splitlines() == [empty.splitlines()[0]] and "vehicle_id" in empty


def test_another_fleets_manager_and_an_owner_see_none_of_it(client, conn, owner):
    fleet_id, _boss, _cars = a_fleet(conn)
    other_fleet = new_fleet(conn, "Other")
    other = manager(conn, other_fleet)
    sign_in(client, other.email)
    mine = client.get("/app/fleet")
    assert mine.status_code == 200 and rows_of(mine.text) == []
    for path in ("/app/fleet", "/app/fleet/due", "/app/fleet/health.csv"):
        response = client.get(path, params={"fleet_id": fleet_id})
        assert response.status_code == 404, path
        assert "WLFLT" not in response.text
    token = issue_access_token(AUTH, other.user_id)
    api = client.get(f"/fleets/{fleet_id}/health", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 404
    client.cookies.clear()
    sign_in(client, owner.email)
    for path in ("/app/fleet", "/app/fleet/due", "/app/fleet/health.csv"):
        response = client.get(path, params={"fleet_id": fleet_id})
        assert response.status_code == 403, path
        assert "WLFLT" not in response.text
    assert ">Fleet</a>" not in client.get("/app/cars").text
    token = issue_access_token(AUTH, owner.user_id)
    api = client.get(f"/fleets/{fleet_id}/health", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 403


def test_an_admin_picks_a_fleet(client, conn):
    fleet_id, _, _cars = a_fleet(conn)
    admin = user(conn, "admin", password=PASSWORD)
    sign_in(client, admin.email)
    pick = client.get("/app/fleet")
    assert pick.status_code == 200 and f"/app/fleet?fleet_id={fleet_id}" in pick.text
    table = client.get("/app/fleet", params={"fleet_id": fleet_id})
    assert len(rows_of(table.text)) == 5
    assert f"fleet_id={fleet_id}" in table.text  # the CSV link and the tabs keep the fleet
