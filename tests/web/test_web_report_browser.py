# SPDX-License-Identifier: MIT
"""A verifiable report in a real browser: shop staff check a car in, upload photos before and
after the work, sign on the pad with the mouse and complete the visit; the verify page says the
report is unaltered until the test alters its row in the database, then that it is altered and
not valid; the owner sees the report with its photos; another shop's staff get the order's 404
for a photo. The pages pass axe-core's WCAG 2.1 AA checks. With screenshots of the job card
with photos and of the verify page."""

from __future__ import annotations

import io

from PIL import Image
from playwright.sync_api import expect
from report_images import jpeg_with_gps, png
from shop_helpers import shop_staff
from test_web_accessibility import violations
from test_web_browser import sign_in
from web_order_helpers import booked_order, open_shops, status_of

VIN = "WLRPB000000000001"


def _photo(name: str, data: bytes, mime: str) -> dict:
    return {"name": name, "mimeType": mime, "buffer": data}


def _draw_signature(page) -> None:
    pad = page.get_by_role("img", name="Signature pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.1, y + h * 0.6)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(x + w * (0.1 + 0.04 * i), y + h * (0.6 - 0.3 * ((i % 4) in (1, 2))))
    page.mouse.up()


def test_staff_complete_a_visit_with_photos_and_a_signature_and_it_verifies(
    server, page, owner, conn, chromium, screenshot_dir
):
    open_shops(conn)
    order_id = booked_order(conn, owner, vin=VIN)
    shop_id = conn.execute(
        "SELECT shop_id FROM service_orders WHERE order_id = %s", (order_id,)
    ).fetchone()[0]
    staff = shop_staff(conn, shop_id)
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, server, staff.email, lands_on="Inbox")
    page.goto(f"{server}/app/shop/jobs/{order_id}")
    page.get_by_role("button", name="Check in").click()
    expect(page.get_by_role("status").filter(has_text="Checked in.")).to_be_visible()
    page.get_by_role("button", name="Start the work").click()
    expect(page.get_by_role("status").filter(has_text="Work started.")).to_be_visible()

    photos = page.get_by_role("region", name="Photos")
    photos.get_by_label("Photos before the work").set_input_files(
        [
            _photo("front.jpg", jpeg_with_gps((640, 480), "#8a8f99"), "image/jpeg"),
            _photo("pads.jpg", jpeg_with_gps((640, 480), "#5b4636"), "image/jpeg"),
        ]
    )
    photos.get_by_role("button", name="Upload the photos before").click()
    expect(page.get_by_role("status").filter(has_text="Photos kept.")).to_be_visible()
    photos = page.get_by_role("region", name="Photos")
    expect(photos.get_by_role("img", name="Before the work, photo 2")).to_be_visible()
    # A file that claims to be a photo and is not: said next to the field, nothing kept.
    photos.get_by_label("Photos after the work").set_input_files(
        [_photo("after.jpg", b"\xff\xd8\xff\xe0 not a photo", "image/jpeg")]
    )
    photos.get_by_role("button", name="Upload the photos after").click()
    field = page.get_by_label("Photos after the work")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("This file is not a photo that can be read")).to_be_visible()
    field.set_input_files([_photo("after.png", png((640, 480), "#2f6f3e"), "image/png")])
    page.get_by_role("button", name="Upload the photos after").click()
    expect(page.get_by_role("status").filter(has_text="Photos kept.")).to_be_visible()
    expect(page.get_by_role("img", name="After the work, photo 1")).to_be_visible()

    form = page.get_by_role("region", name="Completion report")
    form.get_by_label("Front axle (mm)").fill("7.5")
    form.get_by_label("Rear axle (mm)").fill("8.5")
    form.get_by_label("Oil changed", exact=True).check()
    form.get_by_label("Odometer (km)").fill("48250")
    form.get_by_label("Part, row 1", exact=True).fill("Engine oil 5W-30")
    form.get_by_label("Part number, row 1").fill("OIL-5W30-5L")
    form.get_by_label("Batch number, row 1").fill("L2311-07")
    form.get_by_label("Labour (hours)").fill("0.8")
    form.get_by_label("Cost", exact=True).fill("94.50")
    form.get_by_label("Technician").fill("Jana Weber")
    form.get_by_label("Work done").fill("Oil and filter changed, pads measured")
    _draw_signature(page)
    expect(form.get_by_text("Signed.")).to_be_visible()
    assert violations(page) == []  # the photos, their forms and the pad (axe-core)
    page.screenshot(path=screenshot_dir / "report-job-card-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=screenshot_dir / "report-job-card-phone.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    form.get_by_role("button", name="Complete the job").click()
    expect(page.get_by_role("status").filter(has_text="Completed.")).to_be_visible()
    assert status_of(conn, order_id) == "completed"
    report = page.get_by_role("region", name="Report of the visit")
    expect(report.get_by_role("img", name="Signature of Jana Weber")).to_be_visible()
    # The drawn signature is kept, not the typed name's image: the pad's size, with ink.
    key = conn.execute(
        "SELECT width_px, height_px FROM report_files WHERE order_id = %s AND kind = 'signature'",
        (order_id,),
    ).fetchone()
    assert tuple(key) == (600, 180)
    signature = page.request.get(
        report.get_by_role("img", name="Signature of Jana Weber")
        .get_attribute("src")
        .replace("/app/", f"{server}/app/", 1)
    )
    ink = Image.open(io.BytesIO(signature.body())).getchannel("A").getbbox()
    assert ink is not None  # something was drawn

    report.get_by_role("link", name="Check this report").click()
    verdict = page.get_by_role("status")
    expect(verdict).to_contain_text("unaltered")
    expect(page.get_by_role("heading", level=2).first).to_contain_text("Issued by")
    expect(page.get_by_text("L2311-07")).to_be_visible()
    verify_url = page.url
    assert violations(page) == []
    page.screenshot(path=screenshot_dir / "report-verify-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=screenshot_dir / "report-verify-phone.png", full_page=True)

    # Someone changes the measured pads in the database: the page says so plainly.
    conn.execute("UPDATE service_reports SET pad_front_mm = 9.9 WHERE order_id = %s", (order_id,))
    page.reload()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("This report was altered and is not valid")
    expect(page.get_by_text("unaltered")).to_have_count(0)
    assert violations(page) == []
    page.screenshot(path=screenshot_dir / "report-verify-altered-phone.png", full_page=True)
    conn.execute("UPDATE service_reports SET pad_front_mm = 7.5 WHERE order_id = %s", (order_id,))

    # The owner sees the report with its photos (served, decoded by the browser).
    owners = chromium.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    try:
        mine = owners.new_page()
        sign_in(mine, server, owner.email)
        mine.goto(f"{server}/app/orders/{order_id}")
        visit = mine.get_by_role("region", name="Report of the visit")
        first = visit.get_by_role("img", name="Before the work, photo 1")
        expect(first).to_be_visible()
        first.scroll_into_view_if_needed()  # lazily loaded: it loads once in view
        mine.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=first.element_handle()
        )
        assert first.evaluate("img => img.naturalWidth") == 640
        expect(visit.get_by_role("link", name="Check this report")).to_have_attribute(
            "href", verify_url
        )
        photo_src = first.get_attribute("src")
    finally:
        owners.close()

    # Another shop's staff: the order's 404 for the same photo.
    other_shop = conn.execute(
        "SELECT shop_id FROM shops WHERE shop_id <> %s ORDER BY shop_id LIMIT 1", (shop_id,)
    ).fetchone()[0]
    rivals = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    try:
        rival = rivals.new_page()
        sign_in(rival, server, shop_staff(conn, other_shop, "rival").email, lands_on="Inbox")
        refused = rival.goto(f"{server}{photo_src}")
        assert refused is not None and refused.status == 404
        expect(rival.get_by_role("heading", name="Order not found")).to_be_visible()
    finally:
        rivals.close()
