# SPDX-License-Identifier: MIT
"""The approval flow in a real browser, desktop-sized: a fleet manager sets a cost limit, an
order over it waits on the approvals page, the manager approves it with a note, and the shop's
job card then offers the check-in; with desktop and phone screenshots of the approvals page
and the policy page."""

from __future__ import annotations

from fleet_helpers import fleet_order, manager, new_fleet
from playwright.sync_api import expect
from shop_helpers import shop_staff
from test_web_browser import sign_in
from web_order_helpers import open_shops, status_of

from orders import placement
from orders.policy import PlacementPolicy


def test_a_manager_approves_an_order_over_the_limit(server, page, conn, screenshot_dir, chromium):
    open_shops(conn)
    fleet_id = new_fleet(conn)
    boss = manager(conn, fleet_id)
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, server, boss.email, lands_on="Fleet health")
    page.get_by_role("navigation", name="Fleet").get_by_role("link", name="Approval policy").click()
    page.get_by_label("Approve automatically up to").fill("50")
    page.get_by_label("Currency").fill("EUR")
    page.get_by_role("button", name="Save the limit").click()
    expect(page.get_by_role("status")).to_contain_text("The cost limit is saved.")
    expect(page.get_by_text("estimated at up to €50.00")).to_be_visible()
    page.screenshot(path=screenshot_dir / "fleet-policy-desktop.png", full_page=True)

    # Two orders over the limit wait; the first one is booked already.
    order_id = fleet_order(conn, fleet_id, vin="WLAPB000000000001")
    placement.owner_confirm(conn=conn, order_id=order_id, now=_now(), policy=PlacementPolicy())
    placement.schedule(conn=conn, order_id=order_id, now=_now(), actor="fleet")
    fleet_order(conn, fleet_id, vin="WLAPB000000000002")

    page.get_by_role("navigation", name="Fleet").get_by_role("link", name="Approvals").click()
    waiting = page.get_by_role("article").filter(has_text=f"Order {order_id}")
    expect(waiting).to_contain_text("€89.00")
    expect(waiting).to_contain_text("Becker Garage")
    page.screenshot(path=screenshot_dir / "fleet-approvals-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=screenshot_dir / "fleet-approvals-phone.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})

    waiting.get_by_label("Note for the shop (needed to reject)").fill("Needed before the tour")
    waiting.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text("Approved. The shop may do the work.")
    expect(page.get_by_role("article").filter(has_text=f"Order {order_id}")).to_have_count(0)
    decided = page.get_by_role("row").filter(has_text=f"Order {order_id}")
    expect(decided).to_contain_text("Approved by the fleet")
    expect(decided).to_contain_text("Needed before the tour")

    # The shop sees the decision and may check the car in.
    shop_id = conn.execute(
        "SELECT shop_id FROM service_orders WHERE order_id = %s", (order_id,)
    ).fetchone()[0]
    staff = shop_staff(conn, shop_id)
    shop = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    shop.set_default_timeout(15_000)
    card = shop.new_page()
    sign_in(card, server, staff.email, lands_on="Inbox")
    card.goto(f"{server}/app/shop/jobs/{order_id}")
    expect(card.get_by_text("Approved by the fleet.")).to_be_visible()
    expect(card.get_by_text("The fleet's note: Needed before the tour")).to_be_visible()
    card.get_by_role("button", name="Check in").click()
    expect(card.get_by_role("status").filter(has_text="Checked in.")).to_be_visible()
    assert status_of(conn, order_id) == "checked_in"
    shop.close()


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)
