# SPDX-License-Identifier: MIT
"""One car's page: its numbers are the JSON API's for the same car (health, the models'
outputs, the odometer's daily series, service history, oil analyses), its charts hold the
thresholds and the predicted path with its band, distances follow the user's units, another
owner's car is a 404, and a car with no data yet says so in words."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import factories
import pytest
from babel import Locale
from car_history import DRIVEN_DAYS, make_car_with_history
from test_web_sessions import sign_in
from web_helpers import AUTH, make_owner

from api.auth.tokens import issue_access_token
from api.vehicles.schemas import TierProjection
from web import charts
from web.cars import NextTier, next_tier

EN = Locale.parse("en_GB")


def api(client, user_id: int, path: str, **params) -> dict:
    """The JSON API's answer to the same user."""
    token = issue_access_token(AUTH, user_id)
    response = client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()


def figure(html: str, chart_id: str) -> str:
    """The HTML of one chart's figure."""
    found = re.search(
        rf'<figure class="chart-box" aria-labelledby="{chart_id}-heading">.*?</figure>', html, re.S
    )
    assert found is not None, chart_id
    return found.group(0)


def table_rows(html: str, caption: str) -> list[tuple[str, str]]:
    """The (first, second) cells of the rows of the table with ``caption``."""
    found = re.search(
        rf"<caption>{re.escape(caption)}</caption>.*?<tbody>(.*?)</tbody>", html, re.S
    )
    assert found is not None, caption
    return re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td>", found.group(1))


def day_words(iso: str) -> str:
    """A date as the page writes it in English."""
    when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return f"{when.day} {when:%b} {when.year}"


def daily_last(items: list[dict]) -> list[tuple[str, float]]:
    """The day's newest of a list of the API's predictions, oldest day first."""
    by_day: dict[str, dict] = {}
    for p in items:
        day = p["time"][:10]
        if day not in by_day or p["time"] > by_day[day]["time"]:
            by_day[day] = p
    return [(day_words(p["time"]), p["value"]) for _, p in sorted(by_day.items())]


@pytest.fixture
def car(conn, owner) -> int:
    return make_car_with_history(conn, owner, vin="WLCAR000000000001")


def test_the_page_shows_the_apis_numbers(client, owner, car):
    sign_in(client, owner.email)
    page = client.get(f"/app/cars/{car}")
    assert page.status_code == 200
    html = page.text
    health = api(client, owner.user_id, f"/vehicles/{car}/health")
    assert f"{health['oil']['oil_life_pct']:.1f} %" in html
    assert "Front 6.1 mm, rear 8.3 mm." in html

    for model, chart, caption, unit in (
        ("oil_life", "oil-chart", "Oil life, the day's last estimate", "%"),
        ("brake_pads", "pads-chart", "The thinner pad, the day's last estimate", "mm"),
    ):
        outputs = api(client, owner.user_id, f"/vehicles/{car}/predictions", model=model, limit=200)
        assert outputs["next_cursor"] is None
        expected = daily_last(outputs["items"])
        shown = list(reversed(table_rows(figure(html, chart), caption)))
        assert [day for day, _ in shown] == [day for day, _ in expected]
        assert len(expected) == 31
        for (_, text), (_, value) in zip(shown, expected, strict=True):
            # The API gives two decimals, the page one: the same figure within its rounding.
            number, shown_unit = text.split(" ")
            assert shown_unit == unit and float(number) == pytest.approx(value, abs=0.0501)

    end = datetime.now(UTC) + timedelta(days=1)
    series = api(
        client,
        owner.user_id,
        f"/vehicles/{car}/telemetry",
        signal="odometer_km",
        bucket="1d",
        start=(end - timedelta(days=30)).isoformat(),
        end=end.isoformat(),
    )
    expected = [(day_words(p["t"]), f"{p['max'] - p['min']:.1f} km") for p in series["points"]]
    shown = table_rows(figure(html, "distance-chart"), "Distance driven per day")
    assert list(reversed(shown)) == expected and len(expected) == DRIVEN_DAYS
    assert "505 km over the last 30 days, on 10 days of driving." in html

    [visit] = api(client, owner.user_id, f"/vehicles/{car}/service-history")["items"]
    assert f'href="/app/orders/{visit["order_id"]}"' in html
    assert "Oil and filter changed" in html and "€89.00" in html
    assert "engine oil 5W-30 × 4.5 l" in html
    [lab] = api(client, owner.user_id, f"/vehicles/{car}/oil-analyses")["items"]
    assert f"{lab['life_left_pct']:.1f} % ± {lab['sd_pct']:.1f}" in html
    assert f"{100 - lab['predicted_consumed_pct']:.1f} %" in html
    assert "Lakeside Oil Lab, report 2026-4471" in html
    assert "Online" in html and "wl-edge 0.4.1" in html and f"dongle-{car}" in html


def test_the_cards_say_when_each_next_tier_comes_with_its_band(client, owner, car):
    sign_in(client, owner.email)
    cards = client.get("/app/cars").text
    # Oil 14.2 % (likely 12.9 to 15.4 %) at 43 km a percent and 45 km a day reaches 5 % in
    # 396 km: 7.5 to 9.9 days from now.
    assert "Next: due now in 7 to 10 days, about 396 km (" in cards
    # Pads 6.1 mm at 0.1 mm per 1000 km reach 4 mm in 21,000 km: 467 days, about 15 months.
    assert "Next: due soon in about 15 months, about 21,000 km (" in cards


def test_the_chart_holds_the_thresholds_and_the_predicted_path(client, owner, car):
    sign_in(client, owner.email)
    oil = figure(client.get(f"/app/cars/{car}").text, "oil-chart")
    svg = re.search(r"<svg .*?</svg>", oil, re.S).group(0)
    assert 'role="img"' in svg and 'aria-labelledby="oil-chart-title oil-chart-desc"' in svg
    assert '<title id="oil-chart-title">Oil life over time</title>' in svg
    assert re.search(
        r'<desc id="oil-chart-desc">Oil life was 74.2 % on .*It is 14.2 % now\. '
        r"Next: due now in 7 to 10 days",
        svg,
    )

    def y_of(pct: float) -> str:
        box = charts.HEIGHT - charts.BOTTOM
        return f"{box - (box - charts.TOP) * pct / 100:.1f}"

    for tier, pct, words in (
        ("change_soon", 15, "Due soon 15 %"),
        ("due_now", 5, "Due now 5 %"),
        ("overdue", 0, "Change now 0 %"),
    ):
        left, right = charts.LEFT, charts.WIDTH - charts.RIGHT
        assert (
            f'class="threshold threshold-{tier}" x1="{left}" x2="{right}" y1="{y_of(pct)}"' in svg
        )
        assert f">{words}</text>" in svg
    predicted = re.search(r'<path class="predicted" d="([^"]+)"', svg).group(1)
    dot = re.search(r'<circle class="observed-dot" cx="([\d.]+)" cy="([\d.]+)"', svg)
    points = [tuple(p[1:].split(",")) for p in predicted.split()]
    assert points[0] == (dot.group(1), dot.group(2)) and points[0][1] == y_of(14.2)
    assert [y for _, y in points[1:]] == [y_of(5), y_of(0)]  # through each tier not reached
    assert '<polygon class="band"' in svg
    assert "Predicted at your recent pace" in oil and "Likely range" in oil
    pads = figure(client.get(f"/app/cars/{car}").text, "pads-chart")
    assert ">Due soon 4 mm</text>" in pads and '<path class="predicted"' in pads


def test_miles_for_an_owner_who_chose_them(client, owner, car, conn):
    conn.execute("UPDATE users SET units = 'imperial' WHERE user_id = %s", (owner.user_id,))
    sign_in(client, owner.email)
    html = client.get(f"/app/cars/{car}").text
    distance = figure(html, "distance-chart")
    rows = table_rows(distance, "Distance driven per day")
    assert rows and all(value.endswith(" mi") for _, value in rows)
    assert rows[0][1] == f"{46 / 1.609344:.1f} mi"  # yesterday: 46 km
    assert "314 mi over the last 30 days" in distance
    assert re.search(r'<text x="[\d.]+" y="[\d.]+" text-anchor="end">\d+ mi</text>', distance)
    assert "about 246 mi (" in html and "29,958 mi" in html


def test_another_owners_car_is_a_404(client, owner, conn):
    theirs = make_car_with_history(conn, make_owner(conn, "someone"), vin="WLCAR000000000002")
    sign_in(client, owner.email)
    for headers in ({}, {"HX-Request": "true"}):
        refused = client.get(f"/app/cars/{theirs}", headers=headers)
        assert refused.status_code == 404
        assert "WLCAR000000000002" not in refused.text and "dongle-" not in refused.text
        assert f"There is no car {theirs} among your cars." in refused.text


def test_a_car_with_no_data_yet_says_so(client, owner, conn):
    vehicle_id = factories.vehicle(
        conn, vin="WLCAR000000000003", owner_user_id=owner.user_id, make="Skoda", model="Fabia"
    ).vehicle_id
    sign_in(client, owner.email)
    page = client.get(f"/app/cars/{vehicle_id}")
    assert page.status_code == 200
    assert "Nothing from this car yet." in page.text
    assert "<svg" not in page.text
    assert "No visits yet." in page.text and "No oil analyses yet." in page.text
    assert "No dongle on this car." in page.text


def test_htmx_gets_the_now_block_alone(client, owner, car):
    sign_in(client, owner.email)
    fragment = client.get(f"/app/cars/{car}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="now"')
    assert "<html" not in fragment.text and "<svg" not in fragment.text
    assert "14.2 %" in fragment.text


def test_the_page_and_its_assets_weigh_under_150_kb(client, owner, car):
    sign_in(client, owner.email)
    page = client.get(f"/app/cars/{car}")
    assets = re.findall(r'(?:href|src)="(/app/static/[^"]+)"', page.text)
    # The style sheet, htmx and the tab icon: the charts are in the page, no image.
    assert sorted(a.rsplit("/", 1)[-1] for a in assets) == ["app.css", "htmx.min.js", "icon.svg"]
    weight = len(page.content) + sum(len(client.get(a).content) for a in assets)
    assert weight < 150_000


def test_the_band_says_between_which_days():
    now = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    step = TierProjection(threshold=5.0, km=395.0, date=now + timedelta(days=8.8), reached=False)
    reached = TierProjection(threshold=15.0, km=0.0, date=now, reached=True)
    found = next_tier(
        {"change_soon": reached, "due_now": step}, value=14.2, as_of=now, band=(12.9, 15.4)
    )
    assert found is not None and found.tier == "due_now"
    assert found.when(now) == ("days", 7, 10)
    alone = next_tier({"due_now": step}, value=14.2, as_of=now)
    assert alone is not None and alone.when(now) == ("days", 9, 9)
    assert NextTier("due_now", 10.0, None).when(now) is None
    soon = NextTier("due_now", 10.0, now, now, now + timedelta(hours=20))
    assert soon.when(now) == ("day", 0, 1)


def test_threshold_labels_that_would_overlap_go_to_the_other_end():
    now = datetime(2026, 11, 21, tzinfo=UTC)
    chart = charts.line_chart(
        observed=[(now, 6.1)],
        predicted=[],
        band=[],
        thresholds=[("change_soon", 4.0), ("due_now", 3.5), ("overdue", 3.0)],
        start=now - timedelta(days=7),
        end=now + timedelta(days=7),
        today=now,
        top=12.0,
        unit="mm",
        locale=EN,
    )
    assert [t.left for t in chart.thresholds] == [False, True, False]
    assert [t.label for t in chart.thresholds] == ["4 mm", "3.5 mm", "3 mm"]


@pytest.mark.parametrize(("top", "step"), [(100, 25), (12, 5), (8, 2), (0.4, 0.1), (505, 200)])
def test_nice_steps(top, step):
    assert charts.nice_step(top, 4) == pytest.approx(step)


def test_the_page_in_chinese(client, owner, car, conn):
    conn.execute("UPDATE users SET language = 'zh_Hans' WHERE user_id = %s", (owner.user_id,))
    sign_in(client, owner.email)
    html = client.get(f"/app/cars/{car}").text
    assert '<title id="oil-chart-title">机油寿命变化</title>' in html
    assert "下一阶段：7 至 10 天后进入“已到期”，约 396 km（" in html
    assert ">已到期 5 %</text>" in html and "保养记录" in html and "在线" in html
