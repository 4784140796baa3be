# SPDX-License-Identifier: MIT
"""The owner's flows in a real browser, finding everything by role and label as a person
does: sign-in by password, by keyboard and by a mailed link; the cards against the API's
health; one car's page; another owner's car; a forged form; the language switch;
screenshots."""

from __future__ import annotations

import re

import httpx2 as httpx
from car_history import make_car_with_history
from playwright.sync_api import Page, expect
from web_helpers import AUTH, PASSWORD, link_in, make_car, make_owner

from api.auth.tokens import issue_access_token


def sign_in(page: Page, server: str, email: str, *, lands_on: str = "My cars") -> None:
    """Sign in with the password form and land on the role's first page (``lands_on``'s
    heading: My cars, or shop staff's Inbox)."""
    page.goto(f"{server}/app/")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name=lands_on, level=1)).to_be_visible()


def test_sign_in_with_a_password_and_out_everywhere(page, server, owner):
    sign_in(page, server, owner.email)
    expect(page.get_by_text(f"Signed in as {owner.email}.")).to_be_visible()
    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    page.goto(f"{server}/app/cars")
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()


def test_sign_in_with_the_keyboard_alone(page, server, owner):
    page.goto(f"{server}/app/signin")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.get_by_label("Email", exact=True).focus()
    page.keyboard.type(owner.email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="My cars", level=1)).to_be_visible()


def test_a_wrong_password_says_so(page, server, owner):
    page.goto(f"{server}/app/signin")
    page.get_by_label("Email", exact=True).fill(owner.email)
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("Email or password is wrong.")


def test_sign_in_with_a_mailed_link(page, server, owner, smtp):
    page.goto(f"{server}/app/signin")
    page.get_by_label("Email for the link").fill(owner.email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("status")).to_contain_text("we have sent it a sign-in link")
    page.goto(link_in(smtp.mailbox.wait_for(owner.email)))
    page.get_by_role("button", name="Sign in with this link").click()
    expect(page.get_by_role("heading", name="My cars", level=1)).to_be_visible()


def test_the_cards_match_the_apis_health(page, server, owner, conn):
    vehicle_id = make_car(conn, owner, vin="WLBRW000000000001")
    token = issue_access_token(AUTH, owner.user_id)
    health = httpx.get(
        f"{server}/vehicles/{vehicle_id}/health", headers={"Authorization": f"Bearer {token}"}
    ).json()
    sign_in(page, server, owner.email)
    card = page.get_by_role("article", name="Volkswagen Golf 2019")
    oil = card.get_by_role("region", name="Oil life")
    expect(oil).to_contain_text(f"{health['oil']['oil_life_pct']:.1f} %")
    expect(oil).to_contain_text("Due soon")  # the API's band due_soon, in words
    pads = card.get_by_role("region", name="Brake pads")
    front, rear = health["brake_pads"]["pad_front_mm"], health["brake_pads"]["pad_rear_mm"]
    expect(pads).to_contain_text(f"{min(front, rear):.1f} mm")
    expect(pads).to_contain_text("Good")
    codes = card.get_by_role("region", name="Trouble codes")
    expect(codes.get_by_role("listitem")).to_have_text(
        [f"{a['message']} (high urgency)" for a in health["open_alerts"]]
    )
    expect(card).to_contain_text("48,213 km")


def test_another_owners_car_is_not_shown(page, server, owner, conn):
    theirs = make_car(conn, make_owner(conn, "someone"), vin="WLBRW000000000002")
    sign_in(page, server, owner.email)
    expect(page.get_by_role("article")).to_have_count(0)
    page.goto(f"{server}/app/cars/{theirs}")
    expect(page.get_by_role("heading", name="Car not found")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(f"There is no car {theirs}")


def test_a_forged_form_is_refused(page, server, owner, conn):
    sign_in(page, server, owner.email)
    # A page of another origin on the same site (another port): the browser sends the session
    # cookie with its form, so only the form token stands in the way.
    forger = server.rsplit(":", 1)[0] + ":9/forge"
    page.route(
        forger,
        lambda route: route.fulfill(
            content_type="text/html",
            body=(
                f'<form method="post" action="{server}/app/signout/everywhere">'
                '<input type="hidden" name="csrf_token" value="guessed">'
                "<button>Win a prize</button></form>"
            ),
        ),
    )
    page.goto(forger)
    page.get_by_role("button", name="Win a prize").click()
    expect(page.get_by_role("heading", name="This form was refused")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("nothing was changed")
    assert conn.execute("SELECT count(*) FROM web_sessions").fetchone()[0] == 1
    page.goto(f"{server}/app/cars")
    expect(page.get_by_role("heading", name="My cars", level=1)).to_be_visible()


def test_switching_language_and_units(page, server, owner, conn):
    make_car(conn, owner, vin="WLBRW000000000003")
    sign_in(page, server, owner.email)
    page.get_by_role("button", name="简体中文").click()
    expect(page.get_by_role("heading", name="我的车辆", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="简体中文")).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="英里").click()
    expect(page.get_by_role("article")).to_contain_text("29,958 mi")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="My cars", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Miles")).to_have_attribute("aria-pressed", "true")


def test_screenshots_of_my_cars(page, server, conn, screenshot_dir):
    owner = make_owner(conn, email="maria.schmidt@example.test")
    make_car(conn, owner, vin="WLBRW000000000004")
    make_car(conn, owner, vin="WLBRW000000000005", oil_pct=72.0)
    conn.execute(
        "UPDATE vehicles SET make = 'Toyota', model = 'Corolla', model_year = 2021 "
        "WHERE vin = 'WLBRW000000000005'"
    )
    sign_in(page, server, owner.email)
    page.screenshot(path=screenshot_dir / "my-cars-phone.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.screenshot(path=screenshot_dir / "my-cars-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("button", name="简体中文").click()
    expect(page.get_by_role("heading", name="我的车辆", level=1)).to_be_visible()
    page.screenshot(path=screenshot_dir / "my-cars-phone-zh.png", full_page=True)
    for name in ("my-cars-phone", "my-cars-desktop", "my-cars-phone-zh"):
        assert (screenshot_dir / f"{name}.png").stat().st_size > 10_000


def test_the_car_page_and_its_screenshots(page, server, conn, screenshot_dir):
    owner = make_owner(conn, email="maria.schmidt@example.test")
    vehicle_id = make_car_with_history(conn, owner, vin="WLBRW000000000006")
    token = issue_access_token(AUTH, owner.user_id)
    health = httpx.get(
        f"{server}/vehicles/{vehicle_id}/health", headers={"Authorization": f"Bearer {token}"}
    ).json()
    sign_in(page, server, owner.email)
    page.get_by_role("link", name="Volkswagen Golf 2019").click()
    expect(page.get_by_role("heading", name="Volkswagen Golf 2019", level=1)).to_be_visible()
    now = page.get_by_role("article", name="Now")
    expect(now.get_by_role("region", name="Oil life")).to_contain_text(
        f"{health['oil']['oil_life_pct']:.1f} %"
    )
    oil = page.get_by_role("img", name="Oil life over time")
    expect(oil).to_be_visible()
    expect(page.get_by_role("img", name="Brake pads over time")).to_be_visible()
    expect(page.get_by_role("img", name="Distance driven per day")).to_be_visible()
    # The numbers behind a chart, for anyone who cannot see it, one click away.
    figure = page.get_by_role("figure", name="Oil life over time")
    figure.get_by_text("The numbers").click()
    expect(figure.get_by_role("table", name="Oil life, the day's last estimate")).to_be_visible()
    visits = page.get_by_role("region", name="Service history")
    expect(visits.get_by_role("link", name="The visit's report")).to_have_attribute(
        "href", re.compile(r"/app/orders/\d+$")
    )
    expect(page.get_by_role("region", name="Dongle")).to_contain_text("Online")
    figure.get_by_text("The numbers").click()  # closed again for the screenshots
    # Nothing wider than a phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=screenshot_dir / "car-phone.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.screenshot(path=screenshot_dir / "car-desktop.png", full_page=True)
    for name in ("car-phone", "car-desktop"):
        assert (screenshot_dir / f"{name}.png").stat().st_size > 10_000
