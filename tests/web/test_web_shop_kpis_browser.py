# SPDX-License-Identifier: MIT
"""The shop's KPIs in a real browser: staff find them in the navigation, read each figure
with its definition and its bars, switch to months with the period form; a new shop reads
"No data yet". Desktop and phone screenshots of twelve busy weeks."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import factories
from kpi_history import D, S, at, offered, report, survey
from playwright.sync_api import expect
from shop_helpers import shop_staff
from test_web_browser import sign_in

from orders.kpis import default_period


def busy_weeks(conn, shop_id: int) -> None:
    """Twelve weeks of a shop's offers, visits and surveys, drawn from a fixed seed, every
    time before now."""
    draw = random.Random(18)
    now = datetime.now(UTC)
    first, _ = default_period(now.date())
    cars = [factories.vehicle(conn) for _ in range(60)]
    for week in range(12):
        monday = first + timedelta(weeks=week)
        for _ in range(draw.randint(3, 8)):
            when = at(monday + draw.randint(0, 6) * D, draw.randint(7, 17))
            if when + 3 * D > now:
                continue
            answer = draw.choices(["accepted", "declined", "expired"], [6, 2, 1])[0]
            after = draw.randint(40, 600) * S if answer != "expired" else 5 * 60 * S
            status = "completed" if answer == "accepted" else "declined"
            car = draw.choice(cars)
            job = draw.choice(["OIL-CHG", "BRK-PAD-F", "BRK-PAD-R", "INSPECT"])
            order_id = offered(
                conn, car, shop_id, when=when, response=answer, after=after, status=status, job=job
            )
            if answer != "accepted":
                continue
            conn.execute(
                "UPDATE service_orders SET shop_id = %s WHERE order_id = %s", (shop_id, order_id)
            )
            cost = f"{draw.randint(80, 420)}.{draw.choice(['00', '50', '90'])}"
            report(
                conn,
                order_id,
                shop_id,
                reported_at=when + D,
                cost=cost,
                on_time=draw.random() < 0.85,
            )
            survey(
                conn,
                order_id,
                shop_id,
                answered_at=when + 2 * D,
                score=draw.choice([10, 10, 9, 9, 9, 8, 7, 6, 4]),
            )


def test_staff_read_their_kpis_by_week_and_month(server, page, conn, screenshot_dir):
    shop = factories.shop(conn, name="Isar Autoservice", timezone="Europe/Berlin").shop_id
    busy_weeks(conn, shop)
    staff = shop_staff(conn, shop)
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, server, staff.email, lands_on="Inbox")
    page.get_by_role("navigation", name="Places").get_by_role("link", name="KPIs").click()
    expect(page.get_by_role("heading", name="KPIs · Isar Autoservice", level=1)).to_be_visible()
    for title in ("Median response time", "Acceptance rate", "Net promoter score (NPS)"):
        expect(page.get_by_role("heading", name=title, level=2)).to_be_visible()
        expect(page.get_by_role("img", name=title)).to_be_visible()
    expect(page.get_by_text("No data yet", exact=True)).to_have_count(0)
    expect(page.get_by_text("Offers you accepted, out of the offers you accepted")).to_be_visible()
    page.screenshot(path=screenshot_dir / "shop-kpis-desktop.png", full_page=True)
    page.get_by_label("One bar per").select_option("month")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_label("One bar per")).to_have_value("month")
    expect(page.get_by_role("img", name="Revenue")).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=screenshot_dir / "shop-kpis-phone.png", full_page=True)


def test_a_new_shop_reads_no_data_yet(server, page, conn):
    shop = factories.shop(conn, name="Neue Werkstatt").shop_id
    staff = shop_staff(conn, shop)
    sign_in(page, server, staff.email, lands_on="Inbox")
    page.goto(f"{server}/app/shop/kpis")
    expect(page.get_by_text("No data yet", exact=True)).to_have_count(8)
    expect(page.get_by_role("img")).to_have_count(0)
