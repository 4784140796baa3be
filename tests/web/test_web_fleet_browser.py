# SPDX-License-Identifier: MIT
"""The fleet dashboard in a real browser, desktop-sized: a manager lands on the fleet's
health, filters the table to the vehicles that need attention and downloads them as CSV;
with a desktop screenshot of the filtered table."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from factories import shop
from fleet_helpers import fleet_car, manager, new_fleet
from playwright.sync_api import expect
from test_web_browser import sign_in


def test_a_manager_filters_the_table_and_downloads_it(server, page, conn, screenshot_dir):
    fleet_id = new_fleet(conn)
    boss = manager(conn, fleet_id)
    fine = [
        fleet_car(conn, fleet_id, vin=f"WLBRW00000000000{n}", model=f"Transit {n}")
        for n in range(1, 4)
    ]
    oil = fleet_car(conn, fleet_id, vin="WLBRW000000000011", make="Volkswagen", oil_pct=11.0)
    pads = fleet_car(conn, fleet_id, vin="WLBRW000000000012", make="Mercedes", pad_mm=2.6)
    codes = fleet_car(conn, fleet_id, vin="WLBRW000000000013", codes=("P0301",))
    gone = fleet_car(conn, fleet_id, vin="WLBRW000000000014", seen=timedelta(days=2))
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, server, boss.email, lands_on="Fleet health")  # managers start at their fleet
    table = page.locator("table.fleet tbody tr")
    expect(table).to_have_count(7)
    expect(page.get_by_role("status").filter(has_text="7 of 7 vehicles match.")).to_be_visible()
    page.get_by_label("State").select_option(label="Needs attention")
    expect(page.get_by_role("status").filter(has_text="4 of 7 vehicles match.")).to_be_visible()
    expect(table).to_have_count(4)
    for car in fine:
        expect(page.get_by_text(car.vin)).to_have_count(0)
    # Worst first: the pads to change now lead.
    expect(table.first).to_contain_text(pads.vin)
    expect(table.first).to_contain_text("Change now")
    page.screenshot(path=screenshot_dir / "fleet-health-desktop.png", full_page=True)
    with page.expect_download() as waiting:
        page.get_by_role("link", name="Download CSV").click()
    download = waiting.value
    assert download.suggested_filename == f"fleet-{fleet_id}-health.csv"
    with open(download.path(), encoding="utf-8") as f:
        rows = list(csv.DictReader(io.StringIO(f.read())))
    assert {r["vin"] for r in rows} == {oil.vin, pads.vin, codes.vin, gone.vin}


def test_a_manager_opens_the_map_and_a_vehicle_from_it(server, page, conn, screenshot_dir):
    """The map's tab, a dot per vehicle in its tier's colour and a square per shop; a dot is
    a link to the vehicle (by keyboard too); at phone size the whole drawing fits."""
    fleet_id = new_fleet(conn)
    boss = manager(conn, fleet_id)
    spots = [(48.14, 11.58), (48.18, 11.50), (48.10, 11.66), (48.21, 11.62), (48.07, 11.52)]
    cars = [
        fleet_car(conn, fleet_id, vin=f"WLMAB00000000000{n}", model=f"Transit {n}", home=spot)
        for n, spot in enumerate(spots, start=1)
    ]
    worn = fleet_car(conn, fleet_id, vin="WLMAB000000000011", pad_mm=2.6, home=(48.16, 11.55))
    for n, (lat, lon) in enumerate([(48.15, 11.60), (48.12, 11.49), (48.19, 11.68)], start=1):
        shop(conn, name=f"Garage {n}", lat=lat, lon=lon)
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, server, boss.email, lands_on="Fleet health")
    page.get_by_role("link", name="Map").click()
    expect(page.get_by_role("heading", name="Map")).to_be_visible()
    dots = page.locator("a.map-vehicle")
    expect(dots).to_have_count(len(cars) + 1)
    expect(page.locator("a.map-vehicle.tier-change_now")).to_have_count(1)
    expect(page.locator("g.map-shop")).to_have_count(3)
    page.screenshot(path=screenshot_dir / "fleet-map-desktop.png", full_page=True)
    page.locator("a.map-vehicle.tier-change_now").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text(worn.vin).first).to_be_visible()
    page.go_back()
    page.set_viewport_size({"width": 390, "height": 844})
    box = page.get_by_role("img", name="Map of the fleet").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.screenshot(path=screenshot_dir / "fleet-map-phone.png", full_page=True)
