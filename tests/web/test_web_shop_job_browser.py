# SPDX-License-Identifier: MIT
"""The shop's job card in a real browser at desktop width: staff open a booking from the
Inbox, check the car in, start work, fill in the report with two parts and their batch
numbers, and see it on the card; with a screenshot of the filled-in form."""

from __future__ import annotations

from playwright.sync_api import expect
from shop_helpers import shop_staff
from test_web_browser import sign_in
from web_order_helpers import booked_order, open_shops, status_of


def test_staff_complete_a_job_from_the_inbox(server, page, owner, conn, screenshot_dir):
    open_shops(conn)
    order_id = booked_order(conn, owner, vin="WLJBR000000000001")
    shop_id = conn.execute(
        "SELECT shop_id FROM service_orders WHERE order_id = %s", (order_id,)
    ).fetchone()[0]
    staff = shop_staff(conn, shop_id)
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, server, staff.email, lands_on="Inbox")
    expect(page.get_by_role("heading", name="Bookings (1)")).to_be_visible()
    card = page.get_by_role("article").filter(has_text="WLJBR000000000001")
    card.get_by_role("link", name="Open the job card").click()
    expect(page.get_by_role("heading", name="Job card: Oil change", level=1)).to_be_visible()
    page.get_by_role("button", name="Check in").click()
    expect(page.get_by_role("status").filter(has_text="Checked in.")).to_be_visible()
    page.get_by_role("button", name="Start the work").click()
    expect(page.get_by_role("status").filter(has_text="Work started.")).to_be_visible()
    form = page.get_by_role("region", name="Completion report")
    expect(form.get_by_label("Odometer (km)")).to_have_value("48214")
    expect(form.get_by_label("Currency")).to_have_value("EUR")
    form.get_by_label("Front axle (mm)").fill("7.5")
    form.get_by_label("Rear axle (mm)").fill("8.5")
    form.get_by_label("Oil changed", exact=True).check()
    form.get_by_label("Odometer (km)").fill("48250")
    for n, (name, number, batch, qty, unit) in enumerate(
        (
            ("Engine oil 5W-30", "OIL-5W30-5L", "L2311-07", "4.5", "l"),
            ("Oil filter", "OX 388D", "B-4471", "1", "pc"),
        ),
        start=1,
    ):
        form.get_by_label(f"Part, row {n}", exact=True).fill(name)
        form.get_by_label(f"Part number, row {n}").fill(number)
        form.get_by_label(f"Batch number, row {n}").fill(batch)
        form.get_by_label(f"Quantity, row {n}").fill(qty)
        form.get_by_label(f"Unit, row {n}").fill(unit)
    form.get_by_label("Labour (hours)").fill("0.8")
    form.get_by_label("Cost", exact=True).fill("94.50")
    form.get_by_label("Technician").fill("Jana Weber")
    form.get_by_label("Work done").fill("Oil and filter changed, pads measured")
    page.screenshot(path=screenshot_dir / "shop-job-desktop.png", full_page=True)
    form.get_by_role("button", name="Complete the job").click()
    expect(page.get_by_role("status").filter(has_text="Completed.")).to_be_visible()
    report = page.get_by_role("region", name="Report of the visit")
    expect(report).to_contain_text("batch L2311-07")
    expect(report).to_contain_text("part number OX 388D")
    expect(report).to_contain_text("Jana Weber")
    expect(page.get_by_role("button", name="Complete the job")).to_have_count(0)
    assert status_of(conn, order_id) == "completed"
