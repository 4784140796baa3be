# SPDX-License-Identifier: MIT
"""The owner's order flows in a real browser, by role and label as a person finds them:
confirming the proposed service, another time, declining, the timeline updating by itself
when the shop checks the car in, the survey answered once, another owner's order refused; and
screenshots of the order page at phone and desktop width."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from playwright.sync_api import Page, expect
from test_web_browser import sign_in
from web_helpers import make_owner
from web_order_helpers import booked_order, completed_order, open_shops, proposed_order, status_of

from orders import feedback


def open_order(page: Page, server: str, order_id: int) -> None:
    """From the orders list to the order, as a person goes."""
    page.get_by_role("navigation", name="Places").get_by_role("link", name="Orders").click()
    expect(page.get_by_role("heading", name="Orders", level=1)).to_be_visible()
    page.locator(f'a[href$="/orders/{order_id}"]').click()
    expect(page).to_have_url(re.compile(rf"/app/orders/{order_id}$"))


def test_confirming_the_proposed_service(server, page, owner, conn):
    open_shops(conn)
    order_id = proposed_order(conn, owner, vin="WLBRP000000000001")
    sign_in(page, server, owner.email)
    open_order(page, server, order_id)
    expect(
        page.get_by_role("heading", name="Proposed service: Oil change", level=1)
    ).to_be_visible()
    expect(page.get_by_text("Oil life 8.0 %")).to_be_visible()
    times = page.get_by_role("group", name="Pick a time at Becker Garage").get_by_role("radio")
    expect(times.first).to_be_checked()
    page.get_by_role("button", name="Confirm and book").click()
    expect(page.get_by_role("status").filter(has_text="Confirmed.")).to_be_visible()
    expect(page.get_by_text("Visit booked at Becker Garage.")).to_be_visible()
    assert status_of(conn, order_id) == "scheduled"


def test_picking_another_time(server, page, owner, conn):
    open_shops(conn)
    order_id = proposed_order(conn, owner, vin="WLBRP000000000002")
    sign_in(page, server, owner.email)
    page.goto(f"{server}/app/orders/{order_id}")
    times = page.get_by_role("group", name="Pick a time at Becker Garage").get_by_role("radio")
    third = times.nth(2)
    label = page.locator("label.slot").nth(2).inner_text().strip()
    third.check()
    page.get_by_role("button", name="Confirm and book").click()
    expect(page.get_by_role("region", name="Where it stands")).to_contain_text(label)
    picked = conn.execute(
        "SELECT sl.starts_at FROM service_orders o JOIN shop_slots sl USING (slot_id) "
        "WHERE o.order_id = %s",
        (order_id,),
    ).fetchone()[0]
    earliest = conn.execute(
        "SELECT min(starts_at) FROM shop_slots WHERE shop_id = "
        "(SELECT shop_id FROM service_orders WHERE order_id = %s) AND starts_at > now()",
        (order_id,),
    ).fetchone()[0]
    assert picked > earliest


def test_declining_with_a_reason(server, page, owner, conn):
    open_shops(conn)
    order_id = proposed_order(conn, owner, vin="WLBRP000000000003")
    sign_in(page, server, owner.email)
    page.goto(f"{server}/app/orders/{order_id}")
    page.get_by_label("Why? (optional)").fill("sold the car")
    page.get_by_role("button", name="Decline this service").click()
    expect(page.get_by_role("status").filter(has_text="Declined.")).to_be_visible()
    expect(page.get_by_role("region", name="Timeline")).to_contain_text("Reason: sold the car")
    expect(page.get_by_role("button", name="Confirm and book")).to_have_count(0)
    assert status_of(conn, order_id) == "cancelled"


def test_the_timeline_updates_when_the_shop_checks_the_car_in(server, page, owner, conn):
    open_shops(conn)
    order_id = booked_order(conn, owner, vin="WLBRP000000000004")
    sign_in(page, server, owner.email)
    page.goto(f"{server}/app/orders/{order_id}")
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline).not_to_contain_text("Car checked in at the shop")
    page.evaluate("window.sameDocument = true")  # gone if the page were loaded again
    expect(page.locator("#live[data-live=on]")).to_have_count(1)
    feedback.check_in(conn=conn, order_id=order_id, now=datetime.now(UTC), actor="shop")
    expect(timeline).to_contain_text("Car checked in at the shop")
    expect(page.get_by_role("region", name="Where it stands")).to_contain_text(
        "Your car is at the shop."
    )
    assert page.evaluate("window.sameDocument") is True


def test_the_survey_is_answered_once(server, page, owner, conn):
    order_id = completed_order(conn, owner, vin="WLBRP000000000005")
    sign_in(page, server, owner.email)
    page.goto(f"{server}/app/orders/{order_id}")
    expect(page.get_by_role("region", name="Report of the visit")).to_contain_text("€89.00")
    scale = page.get_by_role("group", name=re.compile("How likely are you to recommend"))
    scale.get_by_label("9", exact=True).check()
    page.get_by_label("Comment (optional, the shop reads it)").fill("Quick and friendly")
    page.get_by_role("button", name="Send my recommendation").click()
    expect(page.get_by_role("status").filter(has_text="Thank you.")).to_be_visible()
    survey = page.get_by_role("region", name="Your recommendation")
    expect(survey).to_contain_text("You rated Becker Garage 9 of 10.")
    expect(page.get_by_role("button", name="Send my recommendation")).to_have_count(0)
    page.reload()
    expect(page.get_by_role("button", name="Send my recommendation")).to_have_count(0)
    assert (
        conn.execute(
            "SELECT score FROM service_surveys WHERE order_id = %s", (order_id,)
        ).fetchone()[0]
        == 9
    )


def test_another_owners_order_is_refused(server, page, owner, conn):
    open_shops(conn)
    theirs = proposed_order(conn, make_owner(conn, "someone"), vin="WLBRP000000000006")
    sign_in(page, server, owner.email)
    page.goto(f"{server}/app/orders/{theirs}")
    expect(page.get_by_role("heading", name="Order not found")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(f"There is no order {theirs}")
    expect(page.get_by_text("Becker Garage")).to_have_count(0)


def test_screenshots_of_the_order_page(server, page, conn, screenshot_dir):
    owner = make_owner(conn, email="alex.fischer@example.test")
    open_shops(conn)
    order_id = proposed_order(conn, owner, vin="WLBRP000000000007")
    sign_in(page, server, owner.email)
    page.goto(f"{server}/app/orders/{order_id}")
    expect(page.get_by_role("button", name="Confirm and book")).to_be_visible()
    page.screenshot(path=screenshot_dir / "order-phone.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.screenshot(path=screenshot_dir / "order-desktop.png", full_page=True)
    page.get_by_role("button", name="Confirm and book").click()
    feedback.check_in(conn=conn, order_id=order_id, now=datetime.now(UTC), actor="shop")
    expect(page.get_by_role("region", name="Timeline")).to_contain_text("Car checked in")
    page.screenshot(path=screenshot_dir / "order-timeline-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("button", name="简体中文").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.screenshot(path=screenshot_dir / "order-phone-zh.png", full_page=True)
    for name in ("order-phone", "order-desktop", "order-timeline-desktop", "order-phone-zh"):
        assert (screenshot_dir / f"{name}.png").stat().st_size > 10_000
