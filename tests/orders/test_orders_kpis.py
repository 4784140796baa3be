# SPDX-License-Identifier: MIT
"""A shop's KPIs against a hand-built history whose answers are worked out here by hand."""

from datetime import UTC, date, datetime, timedelta

import factories
import pytest
from kpi_history import at, build, offered, report

from orders.kpis import BadPeriod, ShopNotFound, bucket_starts, default_period, shop_kpis

NOW = datetime.now(UTC)


def _kpis(conn, history, **kwargs):
    kwargs.setdefault("start", history.monday)
    kwargs.setdefault("end", history.monday + timedelta(days=20))
    return shop_kpis(conn, shop_id=history.shop_id, now=NOW, **kwargs)


def _series(figure):
    return [(p.value, p.count) for p in figure.series]


def test_offer_figures_per_week_and_over_the_period(conn):
    history = build(conn)
    kpis = _kpis(conn, history)
    f = kpis.figures
    assert kpis.buckets == [history.monday + timedelta(weeks=i) for i in range(3)]
    # Answers: A 60 s, B 300 s (week 1), E 120 s (week 2); C expired, D withdrawn, F open.
    assert _series(f["response_time_median_s"]) == [(180.0, 2), (120.0, 1), (None, 0)]
    assert (f["response_time_median_s"].value, f["response_time_median_s"].count) == (120.0, 3)
    # Accepted over accepted, declined or expired: A of A, B, C; E of E.
    assert _series(f["acceptance_rate"]) == [(pytest.approx(1 / 3), 3), (1.0, 1), (None, 0)]
    assert (f["acceptance_rate"].value, f["acceptance_rate"].count) == (0.5, 4)
    # Completed by the shop over closed offers: A of A-D; E of E (F still open).
    assert _series(f["conversion_rate"]) == [(0.25, 4), (1.0, 1), (None, 0)]
    assert (f["conversion_rate"].value, f["conversion_rate"].count) == (0.4, 5)


def test_visit_figures(conn):
    history = build(conn)
    f = _kpis(conn, history).figures
    # Visits: A (on time, returned after 10 days), E (late; its job again after 31 days is
    # no return), G (on time, paid in USD).
    assert _series(f["on_time_rate"]) == [(1.0, 1), (0.5, 2), (None, 0)]
    assert f["on_time_rate"].value == pytest.approx(2 / 3)
    assert _series(f["return_rate"]) == [(1.0, 1), (0.0, 2), (None, 0)]
    assert (f["return_rate"].value, f["return_rate"].count) == (pytest.approx(1 / 3), 3)
    # Revenue in the shop's EUR only: 100 + 50.50; G's 70 USD is counted apart.
    assert _series(f["revenue"]) == [(100.0, 1), (50.5, 1), (None, 0)]
    assert (f["revenue"].value, f["revenue"].count) == (150.5, 2)
    assert _kpis(conn, history).other_currency_visits == 1


def test_survey_figures(conn):
    history = build(conn)
    f = _kpis(conn, history).figures
    # Week 1: 10 (a promoter); week 2: 6 (a detractor) and 9 (a promoter); one unanswered.
    assert _series(f["survey_score"]) == [(10.0, 1), (7.5, 2), (None, 0)]
    assert f["survey_score"].value == pytest.approx(25 / 3)
    assert _series(f["nps"]) == [(100.0, 1), (0.0, 2), (None, 0)]
    assert (f["nps"].value, f["nps"].count) == (pytest.approx(100 / 3), 3)


def test_months_give_the_same_period_figures(conn):
    history = build(conn)
    weeks, months = _kpis(conn, history), _kpis(conn, history, bucket="month")
    assert months.buckets[0] == history.monday.replace(day=1)
    for name, figure in weeks.figures.items():
        assert months.figures[name].value == pytest.approx(figure.value), name
        assert sum(p.count for p in months.figures[name].series) == figure.count, name


def test_a_shop_without_history_has_no_figures_not_zeros(conn):
    shop = factories.shop(conn).shop_id
    kpis = shop_kpis(conn, shop_id=shop, now=NOW)
    assert len(kpis.buckets) == 12
    for name, figure in kpis.figures.items():
        assert (figure.value, figure.count) == (None, 0), name
        assert all(p.value is None for p in figure.series), name


def test_nps_without_answered_surveys_is_none_while_other_figures_exist(conn):
    shop = factories.shop(conn).shop_id
    car = factories.vehicle(conn)
    today = NOW.date()
    order = offered(conn, car, shop, when=at(today), response="accepted", after=timedelta(0))
    report(conn, order, shop, reported_at=at(today), cost="0.00")
    f = shop_kpis(conn, shop_id=shop, now=NOW + timedelta(days=1)).figures
    assert (f["nps"].value, f["survey_score"].value) == (None, None)
    assert (f["response_time_median_s"].value, f["revenue"].value) == (0.0, 0.0)


def test_buckets_follow_the_shops_calendar(conn):
    # Sunday 20:00 UTC is Monday 04:00 in Shanghai: the next week there.
    shop = factories.shop(conn, timezone="Asia/Shanghai").shop_id
    car = factories.vehicle(conn)
    monday = bucket_starts(NOW.date() - timedelta(weeks=3), NOW.date(), "week")[0]
    offered(conn, car, shop, when=at(monday - timedelta(days=1), 20), response="declined")
    kpis = shop_kpis(
        conn, shop_id=shop, now=NOW, start=monday - timedelta(days=7), end=monday + timedelta(6)
    )
    assert _series(kpis.figures["acceptance_rate"]) == [(None, 0), (0.0, 1)]


def test_periods_and_defaults():
    monday = date(2026, 11, 30)
    assert default_period(monday + timedelta(days=2)) == (
        monday - timedelta(weeks=11),
        monday + timedelta(days=2),
    )
    assert bucket_starts(date(2026, 1, 31), date(2026, 3, 1), "month") == [
        date(2026, 1, 1),
        date(2026, 2, 1),
        date(2026, 3, 1),
    ]


def test_refusals(conn):
    shop = factories.shop(conn).shop_id
    with pytest.raises(BadPeriod):
        shop_kpis(conn, shop_id=shop, now=NOW, start=date(2026, 2, 2), end=date(2026, 2, 1))
    with pytest.raises(BadPeriod):
        shop_kpis(conn, shop_id=shop, now=NOW, start=date(2020, 1, 1), end=date(2026, 1, 1))
    for far in (date(1, 1, 1), date(9999, 12, 31)):
        with pytest.raises(BadPeriod):
            shop_kpis(conn, shop_id=shop, now=NOW, start=far)
        with pytest.raises(BadPeriod):
            shop_kpis(conn, shop_id=shop, now=NOW, end=far)
    with pytest.raises(ShopNotFound):
        shop_kpis(conn, shop_id=shop + 1000, now=NOW)
