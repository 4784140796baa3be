# SPDX-License-Identifier: MIT
"""Invitations and applications in a real browser: an admin makes a fleet and gives it a new
manager by email, the mail arrives in a real SMTP server (aiosmtpd), its link opens the page,
the manager sets a password and lands on the fleet's health; a shop that applied reads where
its application stands. Screenshots of the pages (desktop and phone)."""

from __future__ import annotations

import re

import factories
from playwright.sync_api import expect
from test_web_accessibility import violations
from test_web_browser import sign_in
from test_web_invitations import invite_link, plain
from web_helpers import PASSWORD

NEW_PASSWORD = "a long and new passphrase"


def test_a_new_fleet_manager_follows_the_mailed_link_and_lands_on_the_fleet(
    server, page, conn, smtp, screenshot_dir
):
    admin = factories.user(conn, "admin", password=PASSWORD, email="ada@wrenchlight.example")
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, server, admin.email, lands_on="Admin console")
    page.get_by_role("navigation", name="Admin console").get_by_role("link", name="Fleets").click()
    page.get_by_label("Fleet name").fill("Becker Logistics")
    page.get_by_role("button", name="Create fleet").click()
    expect(page.get_by_role("status")).to_contain_text("The fleet is created.")
    page.get_by_label("Manager's email for Becker Logistics").fill("kim@becker.example")
    page.get_by_role("button", name="Assign").click()
    expect(page.get_by_role("status")).to_contain_text("We mailed them a link")
    page.screenshot(path=screenshot_dir / "admin-invitation-desktop.png", full_page=True)

    # The mail, in a real SMTP server; its link is at the app's configured address.
    message = smtp.mailbox.wait_for("kim@becker.example", timeout_s=30)
    link = invite_link(plain(message))
    assert link.startswith(f"{server}/app/invitations/accept?token=")

    # The invitee, on their phone, with no session of their own.
    page.context.clear_cookies()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(link)
    expect(page.get_by_role("heading", name="Accept your invitation", level=1)).to_be_visible()
    expect(page.get_by_text("manager of the fleet Becker Logistics")).to_be_visible()
    assert violations(page) == []
    page.get_by_label("Your name").fill("Kim Becker")
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("The same password again").fill("not the same passphrase")
    page.get_by_role("button", name="Set my password and sign in").click()
    expect(page.get_by_text("The two passwords differ")).to_be_visible()
    page.screenshot(path=screenshot_dir / "invitation-accept-phone.png", full_page=True)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("The same password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set my password and sign in").click()
    expect(page.get_by_role("heading", name="Fleet health", level=1)).to_be_visible()
    assert re.search(r"/app/fleet$", page.url), page.url
    expect(page.get_by_text("Signed in as kim@becker.example.")).to_be_visible()

    # The link is spent: said in plain words.
    page.context.clear_cookies()
    page.goto(link)
    expect(page.get_by_role("alert")).to_contain_text("This invitation was used already")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.screenshot(path=screenshot_dir / "invitation-used-desktop.png", full_page=True)


def test_a_shop_reads_where_its_application_stands(server, page, conn, smtp, screenshot_dir):
    shop = factories.shop(conn, name="Lake Street Garage")
    conn.execute(
        "UPDATE shops SET verified_at = NULL, verification = 'pending' WHERE shop_id = %s",
        (shop.shop_id,),
    )
    staff = factories.user(conn, "shop_staff", password=PASSWORD, shop_id=shop.shop_id)
    sign_in(page, server, staff.email, lands_on="Your application")
    expect(page.get_by_role("heading", level=2)).to_have_text(
        "Your application is waiting for verification"
    )
    assert violations(page) == []
    page.screenshot(path=screenshot_dir / "shop-application-waiting-phone.png", full_page=True)
    conn.execute(
        "UPDATE shops SET verification = 'rejected', rejected_at = now(), "
        "rejection_reason = 'The street address is missing.' WHERE shop_id = %s",
        (shop.shop_id,),
    )
    page.set_viewport_size({"width": 1280, "height": 800})
    page.reload()
    expect(page.get_by_role("heading", level=2)).to_have_text(
        "Your application was rejected: The street address is missing."
    )
    page.screenshot(path=screenshot_dir / "shop-application-rejected-desktop.png", full_page=True)
    page.get_by_role("button", name="Ask for another look").click()
    expect(page.get_by_role("status")).to_contain_text("waits for an admin again")
    expect(page.get_by_role("heading", level=2)).to_have_text(
        "Your application is waiting for verification"
    )
    page.get_by_role("link", name="Edit your shop's profile").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert page.url.endswith("/app/shop/profile")
