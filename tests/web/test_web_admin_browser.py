# SPDX-License-Identifier: MIT
"""The admin's console in a real browser: a shop registers itself, an admin verifies it from
the console and disables a user, whose open page is signed out; with screenshots of each
console page (desktop) and the shops' list and the form on a phone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import factories
from playwright.sync_api import expect
from psycopg.types.json import Jsonb
from test_web_accessibility import violations
from test_web_browser import sign_in
from web_helpers import PASSWORD

from api.auth.keys import create_key


def _some_trouble(conn) -> None:
    """A dead letter, a device heard of recently and one silent for two days."""
    now = datetime.now(UTC)
    conn.execute(
        "INSERT INTO dead_letters (received_at, topic, reason, payload, payload_size) "
        "VALUES (%s, 'wl/v1/dongle-0007/telemetry', 'batch: unknown signal 0x7f', %s, 24)",
        (now - timedelta(minutes=4), b'{"seq": 12, "samples": [\x00\x01'),
    )
    car = factories.vehicle(conn, vin="WVWZZZ1KZ8W000123", make="Volkswagen", model="Golf")
    for device_id, seen, online in (("dongle-0007", 3, True), ("dongle-0012", 60 * 50, False)):
        factories.device(conn, car.vehicle_id, device_id=device_id)
        status = {"state": "online" if online else "offline", "firmware": "wl-agent 1.4.2"}
        conn.execute(
            "UPDATE devices SET online = %s, status = %s, status_at = %s WHERE device_id = %s",
            (
                online,
                Jsonb(status | {"buffer_pending": 3}),
                now - timedelta(minutes=seen),
                device_id,
            ),
        )


def test_an_admin_verifies_a_pending_shop_and_disables_a_user(
    server, chromium, page, conn, screenshot_dir
):
    _some_trouble(conn)
    admin = factories.user(conn, "admin", password=PASSWORD, email="ada@wrenchlight.example")
    driver = factories.user(conn, "owner", password=PASSWORD, email="max.driver@example.test")
    # A shop registers itself, on a phone, signed out.
    page.goto(f"{server}/app/signin")
    page.get_by_role("link", name="Register your shop").click()
    expect(page.get_by_role("heading", name="Register your shop", level=1)).to_be_visible()
    page.get_by_label("Shop name").fill("Lake Street Garage")
    page.get_by_label("Street address").fill("12 Lake St")
    page.get_by_label("City").fill("Oak Park")
    page.get_by_label("Latitude").fill("41.885")
    page.get_by_label("Longitude").fill("-87.784")
    page.get_by_label("Phone").fill("+1 555 0199")
    page.get_by_label("Oil change").check()
    page.get_by_label("Brake pads").check()
    page.get_by_label("Your email").fill("sam@lakest.example")
    page.screenshot(path=screenshot_dir / "shop-apply-phone.png", full_page=True)
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("heading", name="Application received")).to_be_visible()

    # The driver is signed in elsewhere.
    elsewhere = chromium.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    theirs = elsewhere.new_page()
    sign_in(theirs, server, driver.email)

    page.context.clear_cookies()
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, server, admin.email, lands_on="Admin console")  # admins start there
    page.get_by_role("navigation", name="Places").get_by_role("link", name="My cars").click()
    page.get_by_role("navigation", name="Places").get_by_role("link", name="Admin").click()
    expect(page.get_by_role("heading", name="Admin console", level=1)).to_be_visible()
    page.screenshot(path=screenshot_dir / "admin-home-desktop.png", full_page=True)
    page.get_by_role("link", name="Shops waiting for verification").click()
    card = page.locator("li.panel").filter(has_text="Lake Street Garage")
    expect(card).to_contain_text("sam@lakest.example")
    expect(card).to_contain_text("Waiting")
    page.screenshot(path=screenshot_dir / "admin-shops-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=screenshot_dir / "admin-shops-phone.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    card.get_by_role("button", name="Verify Lake Street Garage").click()
    expect(page.get_by_role("status")).to_contain_text("The shop is verified")
    expect(page.get_by_text("Lake Street Garage")).to_have_count(0)  # no longer waiting
    page.get_by_role("link", name="Verified", exact=True).click()
    expect(page.locator("li.panel").filter(has_text="Lake Street Garage")).to_contain_text(
        "Verified"
    )

    console = page.get_by_role("navigation", name="Admin console")
    console.get_by_role("link", name="Users and keys").click()
    page.get_by_label("Email contains").fill("max.driver")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("link", name=driver.email).click()
    expect(page.get_by_role("heading", name=driver.email, level=1)).to_be_visible()
    page.get_by_role("button", name="Disable this user").click()
    expect(page.get_by_role("status")).to_contain_text("disabled and signed out everywhere")
    page.screenshot(path=screenshot_dir / "admin-user-desktop.png", full_page=True)
    # Their open page is signed out at its next request.
    theirs.reload()
    expect(theirs.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    elsewhere.close()

    console.get_by_role("link", name="Audit log").click()
    log = page.locator("table.fleet tbody")
    expect(log).to_contain_text(f"disabled user {driver.user_id}")
    expect(log).to_contain_text("verified shop")
    expect(log).to_contain_text(admin.email)
    page.screenshot(path=screenshot_dir / "admin-audit-desktop.png", full_page=True)
    console.get_by_role("link", name="Fleets").click()
    page.get_by_label("Fleet name").fill("Becker Logistics")
    page.get_by_role("button", name="Create fleet").click()
    expect(page.get_by_role("status")).to_contain_text("The fleet is created.")
    page.screenshot(path=screenshot_dir / "admin-fleets-desktop.png", full_page=True)
    console.get_by_role("link", name="Dead letters").click()
    expect(page.locator("table.fleet tbody")).to_contain_text("unknown signal 0x7f")
    page.screenshot(path=screenshot_dir / "admin-dead-letters-desktop.png", full_page=True)
    console.get_by_role("link", name="Devices").click()
    page.get_by_label("Silent for at least (hours)").fill("24")
    page.get_by_role("button", name="Show").click()
    rows = page.locator("table.fleet tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("dongle-0012")
    page.get_by_label("Silent for at least (hours)").fill("")
    page.get_by_role("button", name="Show").click()
    expect(rows).to_have_count(2)
    page.screenshot(path=screenshot_dir / "admin-devices-desktop.png", full_page=True)


def test_the_console_and_the_shop_form_have_no_serious_accessibility_violation(
    server, page, conn, screenshot_dir
):
    _some_trouble(conn)
    admin = factories.user(conn, "admin", password=PASSWORD)
    driver = factories.user(conn, "owner", password=PASSWORD)
    create_key(conn=conn, user_id=driver.user_id, name="laptop")
    factories.shop(conn, name="Waiting Garage", verified_at=None, phone="+49 30 1234")
    factories.fleet(conn, name="Becker Logistics")
    page.goto(f"{server}/app/shops/apply")
    page.get_by_role("button", name="Apply").click()  # every field's mistake shown
    expect(page.get_by_role("alert")).to_be_visible()
    found = {}
    if problems := violations(page):
        found["/app/shops/apply (mistakes)"] = problems
    sign_in(page, server, admin.email, lands_on="Admin console")
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 844})
        for path in (
            "/app/admin",
            "/app/admin/shops",
            "/app/admin/fleets",
            "/app/admin/users",
            f"/app/admin/users/{driver.user_id}",
            "/app/admin/audit",
            "/app/admin/dead-letters",
            "/app/admin/devices",
        ):
            page.goto(f"{server}{path}")
            page.wait_for_load_state()
            if problems := violations(page):
                found[f"{path} at {width}"] = problems
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{server}/app/admin/devices")
    page.screenshot(path=screenshot_dir / "admin-devices-phone.png", full_page=True)
    assert not found, found
