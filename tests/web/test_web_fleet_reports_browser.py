# SPDX-License-Identifier: MIT
"""A vehicle and the reports in a real browser: the manager opens a vehicle from the health
table (its charts, history, costs and downtime), then the reports, and downloads them as CSV;
with desktop and phone screenshots of both pages."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from fleet_helpers import fleet_car, manager, new_fleet
from playwright.sync_api import expect
from test_web_browser import sign_in
from test_web_fleet_reports import a_service
from test_web_fleet_vehicle import fleet_van

from web import fleet_reports


def test_a_manager_opens_a_vehicle_and_the_reports(server, page, conn, screenshot_dir):
    now = datetime.now(UTC)
    fleet_id = new_fleet(conn)
    van = fleet_van(conn, fleet_id, now)
    other = fleet_car(conn, fleet_id, vin="WLRPB000000000002", make="Mercedes", model="Sprinter")
    for back, cost in ((1, "240.00"), (2, "129.50"), (4, "310.00")):
        when = fleet_reports.month_start(now, back) + timedelta(days=9, hours=10)
        a_service(conn, other.vehicle_id, when, cost, on_time=back != 2)
    boss = manager(conn, fleet_id)
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, server, boss.email, lands_on="Fleet health")
    page.get_by_role("link", name="Volkswagen Golf").click()
    expect(page.get_by_role("heading", name="Costs and downtime")).to_be_visible()
    expect(page.get_by_role("heading", name="Oil life over time")).to_be_visible()
    expect(page.get_by_role("heading", name="Service history")).to_be_visible()
    figures = page.locator(".fleet-figures")
    expect(figures).to_contain_text("€89.00")
    expect(figures).to_contain_text("3.0 h")
    assert page.url.endswith(f"/app/fleet/vehicles/{van}")
    page.screenshot(path=screenshot_dir / "fleet-vehicle-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=screenshot_dir / "fleet-vehicle-phone.png", full_page=True)

    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("navigation", name="Fleet").get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports", level=1)).to_be_visible()
    expect(page.get_by_role("img", name="Service costs per month")).to_be_visible()
    page.get_by_label("Period").select_option(label="The last 12 months")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".kpis")).to_contain_text("€768.50")  # 89 + 240 + 129.50 + 310
    page.screenshot(path=screenshot_dir / "fleet-reports-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=screenshot_dir / "fleet-reports-phone.png", full_page=True)
    with page.expect_download() as waiting:
        page.get_by_role("link", name="Download the report as CSV").click()
    download = waiting.value
    assert download.suggested_filename == f"fleet-{fleet_id}-report.csv"
    with open(download.path(), encoding="utf-8") as f:
        rows = list(csv.DictReader(io.StringIO(f.read())))
    by_vehicle = {r["vin"]: r for r in rows if r["section"] == "vehicle"}
    assert by_vehicle["WLRPB000000000002"]["cost_EUR"] == "679.50"
    assert len([r for r in rows if r["section"] == "month"]) == 12
