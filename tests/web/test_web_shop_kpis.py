# SPDX-License-Identifier: MIT
"""The shop's KPI page over HTTP: the hand-built history's numbers for the period with their
definitions and charts, "no data yet" where nothing was measured, the API's same figures; the
period form and its mistakes; another shop a 404, an owner a plain 403, an admin's pick."""

from __future__ import annotations

import re
from datetime import timedelta

import factories
from kpi_history import build
from shop_helpers import shop_staff
from test_web_sessions import sign_in
from web_helpers import PASSWORD, Person

from api.auth.users import create_user


def _period(history):
    return {"from": str(history.monday), "to": str(history.monday + timedelta(days=20))}


def _figure(text: str, title: str) -> str:
    """The card of the figure titled ``title``."""
    start = text.index(f">{title}</h2>")
    return text[start : text.index("</figure>", start)]


def test_staff_see_the_figures_of_their_shop(client, conn):
    history = build(conn)
    staff = shop_staff(conn, history.shop_id)
    sign_in(client, staff.email)
    page = client.get("/app/shop/kpis", params=_period(history))
    assert page.status_code == 200, page.text
    text = page.text
    assert "KPIs · Kpi Motors" in text
    assert 'href="/app/shop/kpis" aria-current="page">KPIs</a>' in text
    # The period's numbers, as worked out by hand in tests/kpi_history.py.
    expected = {
        "Median response time": "2 min",
        "Acceptance rate": "50%",
        "Conversion to a completed visit": "40%",
        "On-time completion": "66.7%",
        "Return rate": "33.3%",
        "Survey score": "8.3",
        "Net promoter score (NPS)": "33.3",
        "Revenue": "€150.50",
    }
    for title, number in expected.items():
        card = _figure(text, title)
        assert f'<p class="figure">{number}</p>' in card, title
        assert '<svg class="chart"' in card and 'role="img"' in card, title
    assert "Offers counted: 4" in _figure(text, "Acceptance rate")
    assert "out of the offers you accepted, declined or let expire" in text
    assert "Visits reported in another currency, not included: 1." in text
    # Three weeks, the third without anything: its row says so, its chart has no bar.
    nps = _figure(text, "Net promoter score (NPS)")
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td><td>(\d+)</td></tr>", nps)
    assert [(v, c) for _, v, c in rows] == [("100", "1"), ("0", "2"), ("no data yet", "0")]
    assert nps.count("<rect ") == 3  # the clip box and two bars


def test_a_shop_without_history_says_no_data_yet(client, conn):
    shop = factories.shop(conn, name="New Garage").shop_id
    staff = shop_staff(conn, shop)
    sign_in(client, staff.email)
    text = client.get("/app/shop/kpis").text
    assert text.count('<p class="figure kpi-none">No data yet</p>') == 8
    assert "NaN" not in text and '<p class="figure">0' not in text
    assert '<svg class="chart"' not in text  # nothing to draw
    # The default period: twelve weeks, one table row each.
    assert _figure(text, "Revenue").count("<tr><td>") == 12


def test_months_and_the_forms_mistakes(client, conn):
    history = build(conn)
    staff = shop_staff(conn, history.shop_id)
    sign_in(client, staff.email)
    monthly = client.get("/app/shop/kpis", params=_period(history) | {"bucket": "month"})
    assert monthly.status_code == 200
    assert '<option value="month" selected>' in monthly.text
    assert '<p class="figure">50%</p>' in _figure(monthly.text, "Acceptance rate")
    backwards = client.get("/app/shop/kpis", params={"from": "2026-02-02", "to": "2026-02-01"})
    assert backwards.status_code == 400
    assert "the period must end on or after its first day" in backwards.text
    far = client.get("/app/shop/kpis", params={"from": "0001-01-01"})
    assert far.status_code == 400 and "between the years 1900 and 2200" in far.text
    garbled = client.get("/app/shop/kpis", params={"from": "yesterday"})
    assert garbled.status_code == 400 and "year-month-day" in garbled.text


def test_refusals(client, conn):
    history = build(conn)
    staff = shop_staff(conn, history.shop_id)
    sign_in(client, staff.email)
    other = client.get("/app/shop/kpis", params={"shop_id": history.rival_id})
    assert other.status_code == 404 and "Kpi Motors" not in other.text
    assert "Rival Garage" not in other.text
    client.cookies.clear()
    owner_email = "kpi-owner@example.test"
    create_user(conn=conn, email=owner_email, role="owner", password=PASSWORD)
    sign_in(client, owner_email)
    refused = client.get("/app/shop/kpis")
    assert refused.status_code == 403 and "Only for shop staff" in refused.text
    assert 'href="/app/shop/kpis"' not in refused.text  # no KPIs link for an owner
    client.cookies.clear()
    assert client.get("/app/shop/kpis", follow_redirects=False).status_code in (303, 307)


def test_an_admin_picks_a_shop(client, conn):
    history = build(conn)
    admin = Person(
        create_user(conn=conn, email="kpi-admin@example.test", role="admin", password=PASSWORD),
        "kpi-admin@example.test",
    )
    sign_in(client, admin.email)
    pick = client.get("/app/shop/kpis")
    assert pick.status_code == 200 and "Pick a shop by its id" in pick.text
    shown = client.get("/app/shop/kpis", params=_period(history) | {"shop_id": history.shop_id})
    assert shown.status_code == 200 and "KPIs · Kpi Motors" in shown.text
    missing = client.get("/app/shop/kpis", params={"shop_id": history.shop_id + 999})
    assert missing.status_code == 404


def test_period_bars_tell_zero_from_nothing_and_go_below_zero():
    from datetime import date

    from babel import Locale

    from web.charts import HEIGHT, TOP, period_bars

    days = [date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16), date(2026, 11, 23)]
    chart = period_bars(
        points=list(zip(days, [50.0, None, 0.0, -100.0], strict=True)),
        labels=["a", "b", "c", "d"],
        unit="",
        locale=Locale("en"),
        low=-100.0,
        top=100.0,
    )
    zero = TOP + (HEIGHT - 24.0 - TOP) / 2  # the middle of the plot box
    up, sliver, down = chart.bars
    assert [b.label for b in chart.bars] == ["a", "c", "d"]  # no bar where nothing was measured
    assert up.y + up.height == zero and up.height == (HEIGHT - 24.0 - TOP) / 4
    assert sliver.y + sliver.height == zero and 0 < sliver.height < 2
    assert down.y == zero and down.y + down.height == HEIGHT - 24.0
    assert [t.label for t in chart.y_ticks] == ["-100", "-50", "0", "50", "100"]
    assert [t.label for t in chart.x_ticks] == ["Nov 2", "Nov 9", "Nov 16", "Nov 23"]
