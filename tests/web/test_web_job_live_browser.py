# SPDX-License-Identifier: MIT
"""The job card in a real browser follows the fleet's decision without a reload: it says the
order waits for the fleet and offers no check-in; the manager rejects it, and the card says so
with the note; with desktop and phone screenshots of the card after the decision."""

from __future__ import annotations

from datetime import UTC, datetime

from fleet_helpers import waiting_order
from matrix_helpers import session_of
from playwright.sync_api import expect
from shop_helpers import shop_of, shop_staff

from orders import approval
from web.deps import SESSION_COOKIE


def test_the_job_card_shows_the_fleets_decision_live(server, chromium, conn, screenshot_dir):
    _, order_id = waiting_order(conn, "WLJLV000000000001")
    staff = session_of(conn, shop_staff(conn, shop_of(conn, order_id), "live").user_id)
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": SESSION_COOKIE, "value": staff.token or "", "url": server}])
    page = context.new_page()
    try:
        page.goto(f"{server}/app/shop/jobs/{order_id}")
        expect(page.get_by_role("heading", name="Job card", exact=False)).to_be_visible()
        panel = page.locator("#live")
        expect(panel).to_contain_text("Waiting for the fleet's approval")
        expect(page.get_by_role("button", name="Check in")).to_have_count(0)
        expect(panel).to_have_attribute("data-live", "on")
        approval.decide(
            conn,
            order_id=order_id,
            approve=False,
            actor="user:7",
            note="Our own garage does it",
            now=datetime.now(UTC),
        )
        expect(panel).to_contain_text("Rejected by the fleet.")
        expect(panel).to_contain_text("The fleet's note: Our own garage does it")
        expect(panel).to_contain_text("The fleet rejected the order: there is nothing to do.")
        page.screenshot(path=screenshot_dir / "shop-job-rejected-desktop.png", full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=screenshot_dir / "shop-job-rejected-phone.png", full_page=True)
    finally:
        context.close()
