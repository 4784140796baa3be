# SPDX-License-Identifier: MIT
"""Issue 18's stories on the demo's world, in a real browser, with no terminal past what the
demo prints: each role signs in with the sign-in the demo prints for it and goes where the
printed line says something waits for it.

- shop staff answer the offer, book a time, check the car in, start the work, upload a photo
  before and one after, draw the signature, complete the visit and open the verify page,
  which says the report is unaltered;
- the fleet manager approves the order waiting over the fleet's limit and downloads the
  fleet's health as CSV;
- the admin verifies the shop that applied;
- the owner lands on their cars with the order to confirm.

With screenshots of what each role sees first (``demo-*.png``, desktop and phone)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from demo_cars import demo_cars
from playwright.sync_api import Page, expect
from report_images import jpeg_with_gps, png
from rich.console import Console
from test_web_accessibility import violations
from test_web_report_browser import _draw_signature, _photo

from orders.service import get_order
from wrenchlight.demo import DEMO_ADMIN
from wrenchlight.demo_summary import print_sign_ins
from wrenchlight.demo_world import build_world

# "  shop staff    sam.s7@demo.wrenchlight.invalid     <password>" and, under it,
# "    an offer to answer: http://.../app/shop"
SIGN_IN = re.compile(r"^  (owner|shop staff|fleet manager|admin) +(\S+@\S+) +(\S+)$")
NEXT_STEP = re.compile(r"^    [^:]+: (http\S+)$")


@pytest.fixture
def world(conn):
    """The demo's world on the test database, as the demo builds it after its drive."""
    return build_world(conn=conn, devices=demo_cars(conn), admin_email=DEMO_ADMIN, seed=7)


def printed_sign_ins(world, server: str) -> dict[str, dict[str, str]]:
    """Role → email, password and the page where something waits, read from the lines the
    demo prints at its end (as a newcomer reads them)."""
    out = io.StringIO()
    print_sign_ins(
        Console(file=out, width=80, color_system=None),
        f"{server}/app",
        world.accounts_json(),
        world.orders,
        applied=world.applied_shop_id is not None,
    )
    found: dict[str, dict[str, str]] = {}
    role = None
    for line in out.getvalue().splitlines():
        if match := SIGN_IN.match(line):
            role = match.group(1)
            found[role] = {"email": match.group(2), "password": match.group(3)}
        elif (step := NEXT_STEP.match(line)) and role is not None:
            found[role]["next"] = step.group(1)
    return found


def sign_in(page: Page, server: str, who: dict[str, str], lands_on: str) -> None:
    """Sign in with the printed email and password; land on the role's first page."""
    page.goto(f"{server}/app/")
    page.get_by_label("Email", exact=True).fill(who["email"])
    page.get_by_label("Password", exact=True).fill(who["password"])
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name=lands_on, level=1)).to_be_visible()


def first_look(page: Page, screenshot_dir, name: str) -> None:
    """What the role sees first, on a desktop and on a phone; checked by axe-core."""
    assert violations(page) == []
    page.screenshot(path=screenshot_dir / f"demo-{name}-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=screenshot_dir / f"demo-{name}-phone.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_the_demo_prints_a_sign_in_and_a_next_step_for_every_role(world, server):
    printed = printed_sign_ins(world, server)
    assert set(printed) == {"owner", "shop staff", "fleet manager", "admin"}
    assert printed["owner"]["next"] == f"{server}/app/orders/{world.orders['awaiting_owner']}"
    assert printed["shop staff"]["next"] == f"{server}/app/shop"
    assert printed["fleet manager"]["next"] == f"{server}/app/fleet/approvals"
    assert printed["admin"]["next"] == f"{server}/app/admin/shops"


def test_shop_staff_answer_the_offer_and_complete_a_verifiable_visit(
    world, server, page, conn, screenshot_dir
):
    who = printed_sign_ins(world, server)["shop staff"]
    order_id = world.orders["offered"]
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, server, who, "Inbox")
    offers = page.get_by_role("region", name=re.compile(r"^Offers to answer"))
    offer = offers.locator(f"#order-{order_id}")
    expect(offer).to_be_visible()
    # The demo's offers stay open for three days: said in days, not in thousands of minutes.
    expect(offer).to_contain_text(re.compile(r"Answer within [23] days"))
    first_look(page, screenshot_dir, "shop")

    offer.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("status").filter(has_text="Accepted.")).to_be_visible()
    booking = page.get_by_role("region", name=re.compile(r"^Bookings")).locator(
        f"#order-{order_id}"
    )
    booking.get_by_role("button", name="Book", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Booked.")).to_be_visible()
    page.locator(f"#order-{order_id}").get_by_role("link", name="Open the job card").click()
    expect(page.get_by_role("heading", name=re.compile("^Job card"), level=1)).to_be_visible()

    page.get_by_role("button", name="Check in").click()
    expect(page.get_by_role("status").filter(has_text="Checked in.")).to_be_visible()
    page.get_by_role("button", name="Start the work").click()
    expect(page.get_by_role("status").filter(has_text="Work started.")).to_be_visible()
    for when, photo in (
        ("before", _photo("before.jpg", jpeg_with_gps((640, 480), "#8a8f99"), "image/jpeg")),
        ("after", _photo("after.png", png((640, 480), "#2f6f3e"), "image/png")),
    ):
        photos = page.get_by_role("region", name="Photos")
        photos.get_by_label(f"Photos {when} the work").set_input_files([photo])
        photos.get_by_role("button", name=f"Upload the photos {when}").click()
        expect(page.get_by_role("status").filter(has_text="Photos kept.")).to_be_visible()
        expect(page.get_by_role("img", name=f"{when.title()} the work, photo 1")).to_be_visible()

    form = page.get_by_role("region", name="Completion report")
    form.get_by_label("Oil changed", exact=True).check()
    form.get_by_label("Part, row 1", exact=True).fill("Engine oil 5W-30")
    # The cost starts at the shop's estimate, in the shop's currency.
    expect(form.get_by_label("Cost", exact=True)).to_have_value(re.compile(r"^\d+\.\d\d$"))
    expect(form.get_by_label("Currency")).to_have_value("USD")
    form.get_by_label("Technician").fill("Sam Rivera")
    form.get_by_label("Work done").fill("Oil and filter changed")
    _draw_signature(page)
    expect(form.get_by_text("Signed.")).to_be_visible()
    form.get_by_role("button", name="Complete the job").click()
    expect(page.get_by_role("status").filter(has_text="Completed.")).to_be_visible()
    assert get_order(conn=conn, order_id=order_id).status == "completed"

    report = page.get_by_role("region", name="Report of the visit")
    expect(report.get_by_role("img", name="Signature of Sam Rivera")).to_be_visible()
    report.get_by_role("link", name="Check this report").click()
    expect(page.get_by_role("status")).to_contain_text("unaltered")
    expect(page.get_by_text("Engine oil 5W-30")).to_be_visible()


def test_the_fleet_manager_approves_the_waiting_order_and_exports_the_fleets_health(
    world, server, page, conn, screenshot_dir
):
    who = printed_sign_ins(world, server)["fleet manager"]
    order_id = world.orders["awaiting_approval"]
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, server, who, "Fleet health")
    first_look(page, screenshot_dir, "fleet")

    # Where the manager starts says what waits for them, with the way to it.
    expect(page.get_by_text("Orders waiting for your approval: 1.")).to_be_visible()
    page.get_by_role("link", name="Approve or reject them").click()
    waiting = page.get_by_role("region", name=re.compile("^Waiting for your approval"))
    item = waiting.locator(f"#order-{order_id}")
    expect(item).to_contain_text("Order")
    page.screenshot(path=screenshot_dir / "demo-fleet-approvals-desktop.png", full_page=True)
    item.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status").filter(has_text="Approved.")).to_be_visible()
    assert get_order(conn=conn, order_id=order_id).approval == "approved"

    page.get_by_role("navigation", name="Fleet").get_by_role("link", name="Fleet health").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    manager = next(a for a in world.accounts if a.role == "fleet_manager")
    vins = {
        r[0]
        for r in conn.execute(
            "SELECT vin FROM vehicles WHERE vehicle_id = ANY(%s)", (manager.vehicle_ids,)
        )
    }
    assert {r["vin"] for r in rows} == vins


def test_the_admin_verifies_the_shop_that_applied(world, server, page, conn, screenshot_dir):
    who = printed_sign_ins(world, server)["admin"]
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, server, who, "Admin console")
    expect(
        page.get_by_role("link", name=re.compile("1 Shops waiting for verification"))
    ).to_be_visible()
    first_look(page, screenshot_dir, "admin")

    page.get_by_role("link", name=re.compile("Shops waiting for verification")).click()
    page.get_by_role("button", name="Verify Riverbend Auto Works").click()
    expect(page.get_by_role("status").filter(has_text="The shop is verified")).to_be_visible()
    verified = conn.execute(
        "SELECT verified_at IS NOT NULL FROM shops WHERE shop_id = %s", (world.applied_shop_id,)
    ).fetchone()
    assert verified == (True,)


def test_the_owner_lands_on_their_cars_with_the_order_to_confirm(
    world, server, page, screenshot_dir
):
    who = printed_sign_ins(world, server)["owner"]
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, server, who, "My cars")
    first_look(page, screenshot_dir, "owner")
    page.goto(who["next"])
    expect(page.get_by_role("button", name=re.compile("^Confirm"))).to_be_visible()
