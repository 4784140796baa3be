# SPDX-License-Identifier: MIT
"""The shop's inbox in a real browser: staff find it in the navigation, a new offer appears
by itself while the inbox is open, and accepting one moves it to the bookings; with a
desktop screenshot of the inbox."""

from __future__ import annotations

from playwright.sync_api import expect
from shop_helpers import offered_order, pending_offer, shop_staff
from test_web_browser import sign_in
from web_helpers import make_owner
from web_order_helpers import open_shops, status_of


def test_staff_accept_an_offer_and_a_new_one_appears_live(
    server, page, owner, conn, screenshot_dir
):
    open_shops(conn)
    first = offered_order(conn, owner, vin="WLSBR000000000001")
    _, shop_id = pending_offer(conn, first)
    staff = shop_staff(conn, shop_id)
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, server, staff.email, lands_on="Inbox")  # shop staff start at their inbox
    page.get_by_role("navigation", name="Places").get_by_role("link", name="My cars").click()
    page.get_by_role("navigation", name="Places").get_by_role("link", name="Inbox").click()
    expect(page.get_by_role("heading", name="Inbox", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Offers to answer (1)")).to_be_visible()
    expect(page.locator("#live")).to_have_attribute("data-live", "on")
    # Another owner's car needs the same job: its offer appears without a reload.
    second = offered_order(conn, make_owner(conn, "second"), vin="WLSBR000000000002")
    assert pending_offer(conn, second)[1] == shop_id
    expect(page.get_by_role("heading", name="Offers to answer (2)")).to_be_visible()
    card = page.get_by_role("article").filter(has_text="WLSBR000000000002")
    expect(card).to_contain_text("Answer within 5 min")
    expect(card).to_contain_text("Engine oil 5W-30, fully synthetic")
    page.screenshot(path=screenshot_dir / "shop-inbox-desktop.png", full_page=True)
    card.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("status").filter(has_text="Accepted.")).to_be_visible()
    expect(page.get_by_role("heading", name="Offers to answer (1)")).to_be_visible()
    expect(page.get_by_role("heading", name="Bookings (1)")).to_be_visible()
    assert status_of(conn, second) == "accepted" and status_of(conn, first) == "offered"
