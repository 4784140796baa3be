# SPDX-License-Identifier: MIT
"""The shop's calendar in a real browser: staff find it in the navigation, move a booking to
another free slot by picking one, and the owner is told by mail (the notification dispatcher
sending to a real SMTP server); dragging a booking onto a free slot moves it the same way;
the profile is saved through its form; other roles are refused. With desktop and phone
screenshots of the calendar and the profile."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from factories import fleet, user
from notify_helpers import bodies, dispatch, notify_config, settle_outbox, wait_for
from playwright.sync_api import Page, expect
from shop_helpers import shop_of, shop_staff, slot_of
from test_web_browser import sign_in
from web_helpers import PASSWORD, make_owner
from web_order_helpers import booked_order, open_shops

from orders.slots import fit_slots


def booked(conn, owner, vin: str):
    open_shops(conn)
    order_id = booked_order(conn, owner, vin=vin)
    return order_id, shop_staff(conn, shop_of(conn, order_id))


def workshop_hours(conn) -> None:
    """Every shop open 08:00-12:00 and 13:00-17:00 on weekdays, Saturday mornings, closed on
    Sundays, its free slots fitted to that (a week that shows closed time)."""
    hours = ", ".join(
        f'"{d}": [["08:00", "12:00"], ["13:00", "17:00"]]'
        for d in ("mon", "tue", "wed", "thu", "fri")
    )
    conn.execute(
        "UPDATE shops SET hours = %s", ("{" + hours + ', "sat": [["08:00", "12:00"]], "sun": []}',)
    )
    now = datetime.now(UTC)
    for (shop_id,) in conn.execute("SELECT shop_id FROM shops").fetchall():
        fit_slots(conn=conn, shop_id=shop_id, start=now, days=14)


def open_calendar(page: Page, server: str, email: str) -> None:
    sign_in(page, server, email, lands_on="Inbox")
    page.get_by_role("navigation", name="Places").get_by_role("link", name="Calendar").click()
    expect(page.get_by_role("heading", name="Calendar", level=1)).to_be_visible()


def week_with(page: Page, order_id: int) -> None:
    """Page forward until the booking's week is shown (it is this week or the next)."""
    booking = page.locator(f"#order-{order_id}")
    if booking.count() == 0:
        page.get_by_role("link", name="Next week").click()
    expect(booking).to_be_visible()


def test_staff_move_a_booking_by_picking_a_slot_and_the_owner_is_told(
    server, page: Page, owner, conn, smtp, screenshot_dir
):
    open_shops(conn)
    workshop_hours(conn)
    order_id = booked_order(conn, owner, vin="WLCBR000000000001")
    staff = shop_staff(conn, shop_of(conn, order_id))
    for n in (5, 6):  # other visits that week, for the screenshot
        booked_order(conn, make_owner(conn, f"other{n}"), vin=f"WLCBR00000000000{n}")
    old_slot, _ = slot_of(conn, order_id)
    settle_outbox(conn)
    page.set_viewport_size({"width": 1280, "height": 900})
    open_calendar(page, server, staff.email)
    week_with(page, order_id)
    booking = page.locator(f"#order-{order_id}")
    expect(booking).to_contain_text("Oil change")
    expect(booking.get_by_role("link", name="Oil change", exact=True)).to_have_attribute(
        "href", f"/app/shop/jobs/{order_id}"
    )
    page.screenshot(path=screenshot_dir / "shop-calendar-desktop.png", full_page=True)
    booking.get_by_role("link", name="Move Oil change of WLCBR000000000001").click()
    expect(page.get_by_role("heading", name="Move a booking", level=1)).to_be_visible()
    picks = page.get_by_role("radio")  # grouped by day, earliest first
    expect(picks.nth(2)).to_be_visible()
    target = int(picks.nth(2).get_attribute("value") or 0)
    picks.nth(2).check()
    page.screenshot(path=screenshot_dir / "shop-calendar-move-desktop.png", full_page=True)
    page.get_by_role("button", name="Move the visit").click()
    expect(page.get_by_role("status").filter(has_text="Moved. The owner is told")).to_be_visible()
    expect(page.locator(f"#order-{order_id}")).to_be_visible()
    assert slot_of(conn, order_id)[0] == target != old_slot
    # The owner is told: the dispatcher mails them about the new time.
    dispatch(conn, notify_config(f"smtp://127.0.0.1:{smtp.port}"), datetime.now(UTC))
    message = smtp.mailbox.wait_for(owner.email)
    assert str(message["Subject"]).endswith(": your visit has moved")
    text, _ = bodies(message)
    assert "WLCBR000000000001" in text
    kinds = conn.execute(
        "SELECT event_kind FROM notify_deliveries WHERE user_id = %s", (owner.user_id,)
    ).fetchall()
    assert [k[0] for k in kinds] == ["order_rescheduled"]


def test_staff_drag_a_booking_onto_a_free_slot(server, page: Page, owner, conn):
    order_id, staff = booked(conn, owner, "WLCBR000000000002")
    old_slot, _ = slot_of(conn, order_id)
    page.set_viewport_size({"width": 1024, "height": 800})  # a tablet
    open_calendar(page, server, staff.email)
    week_with(page, order_id)
    booking = page.locator(f"#order-{order_id}")
    free = page.locator(".slot.free[data-slot]").nth(3)
    target = int(free.get_attribute("data-slot") or 0)
    booking.drag_to(free)
    expect(page.get_by_role("status").filter(has_text="Moved. The owner is told")).to_be_visible()
    wait_for(lambda: slot_of(conn, order_id)[0] == target, 10, "the move")
    assert target != old_slot


def test_the_profile_in_a_browser_and_screenshots(server, page: Page, owner, conn, screenshot_dir):
    order_id, staff = booked(conn, owner, "WLCBR000000000003")
    shop_staff(conn, shop_of(conn, order_id), "technician")
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, server, staff.email, lands_on="Inbox")
    page.get_by_role("navigation", name="Places").get_by_role("link", name="Profile").click()
    expect(page.get_by_role("heading", name="Profile", level=1)).to_be_visible()
    page.get_by_label("Saturday").fill("09:00-13:00")
    page.get_by_label("Sunday").fill("")
    page.get_by_label("Tyres").check()
    page.get_by_label("Price of row 2").fill("")
    page.get_by_label("Job of price row 2").select_option("BRK-PAD-F")
    page.get_by_label("Price of row 2").fill("199.00")
    page.get_by_role("button", name="Save the profile").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    expect(page.get_by_label("Saturday")).to_have_value("09:00-13:00")
    expect(page.get_by_label("Tyres")).to_be_checked()
    page.screenshot(path=screenshot_dir / "shop-profile-desktop.png", full_page=True)
    page.get_by_label("Bays").fill("0")
    page.get_by_role("button", name="Save the profile").click()
    expect(page.get_by_text("A whole number of bays, from 1 to 100.")).to_be_visible()
    # On a phone the calendar and the profile stay readable.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{server}/app/shop/profile")
    page.screenshot(path=screenshot_dir / "shop-profile-phone.png", full_page=True)
    page.goto(f"{server}/app/shop/calendar")
    week_with(page, order_id)
    page.screenshot(path=screenshot_dir / "shop-calendar-phone.png", full_page=True)


@pytest.mark.parametrize("role", ["owner", "fleet_manager", "admin"])
def test_other_roles_are_refused_the_calendar_and_profile(server, page: Page, conn, role):
    if role == "fleet_manager":
        person = user(conn, role, password=PASSWORD, fleet_id=fleet(conn).fleet_id)
    else:
        person = user(conn, role, password=PASSWORD)
    first_page = {"owner": "My cars", "fleet_manager": "Fleet", "admin": "Admin console"}
    sign_in(page, server, person.email, lands_on=first_page[role])
    places = page.get_by_role("navigation", name="Places")
    expect(places.get_by_role("link", name="Calendar")).to_have_count(0)
    expect(places.get_by_role("link", name="Profile")).to_have_count(0)
    for path in ("/app/shop/calendar", "/app/shop/profile"):
        page.goto(f"{server}{path}")
        expect(page.get_by_role("heading", name="Only for shop staff", level=1)).to_be_visible()


def test_the_calendar_and_profile_have_no_serious_accessibility_violation(
    server, page: Page, owner, conn
):
    from test_web_accessibility import violations

    order_id, staff = booked(conn, owner, "WLCBR000000000004")
    page.set_viewport_size({"width": 1024, "height": 800})
    open_calendar(page, server, staff.email)
    week_with(page, order_id)
    found = {"calendar": violations(page)}
    page.goto(f"{server}/app/shop/calendar/orders/{order_id}/move")
    found["move"] = violations(page)
    page.goto(f"{server}/app/shop/profile")
    page.get_by_label("Bays").fill("0")
    page.get_by_role("button", name="Save the profile").click()
    expect(page.get_by_text("A whole number of bays, from 1 to 100.")).to_be_visible()
    found["profile"] = violations(page)
    assert found == {"calendar": [], "move": [], "profile": []}


def test_a_manager_changes_a_role_and_a_technician_sees_the_profile_read_only(
    server, page: Page, owner, conn, screenshot_dir
):
    order_id, staff = booked(conn, owner, "WLCBR000000000005")
    tech = shop_staff(conn, shop_of(conn, order_id), "tech")
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, server, staff.email, lands_on="Inbox")
    page.goto(f"{server}/app/shop/profile")
    role = page.get_by_label(f"Role of {tech.email}")
    expect(role).to_have_value("technician")
    role.select_option("manager")
    page.get_by_role("button", name="Change the role").click()
    expect(page.get_by_role("status")).to_contain_text("The role was changed.")
    expect(page.get_by_label(f"Role of {tech.email}")).to_have_value("manager")
    page.get_by_label(f"Role of {tech.email}").select_option("technician")
    page.get_by_role("button", name="Change the role").click()
    expect(page.get_by_role("status")).to_contain_text("The role was changed.")
    page.screenshot(path=screenshot_dir / "shop-profile-roles-desktop.png", full_page=True)
    page.context.clear_cookies()
    sign_in(page, server, tech.email, lands_on="Inbox")
    page.goto(f"{server}/app/shop/profile")
    expect(page.get_by_text("You see the profile read-only")).to_be_visible()
    expect(page.get_by_label("Bays")).to_be_disabled()
    expect(page.get_by_role("button", name="Save the profile")).to_have_count(0)
    expect(page.get_by_role("button", name="Change the role")).to_have_count(0)
    page.screenshot(path=screenshot_dir / "shop-profile-technician-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.screenshot(path=screenshot_dir / "shop-profile-technician-phone.png", full_page=True)
