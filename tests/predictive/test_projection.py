# SPDX-License-Identifier: MIT
"""Projections to each alert tier from the recent wear rate and the vehicle's recent usage."""

import math
from datetime import UTC, datetime, timedelta

import pytest

from predictive.health import BAND_OF_TIER, oil_band, pad_band
from predictive.projection import (
    DAY_S,
    MAX_PROJECTION_DAYS,
    Threshold,
    km_to,
    project,
    tier_for,
    trend,
    usage_km_per_day,
)
from predictive.publish import oil_thresholds, pad_thresholds
from predictive.totals import RECENT_TAU_S

NOW = datetime(2026, 11, 20, tzinfo=UTC)
OIL = oil_thresholds()


def _decayed_km(km_per_day, days):
    """recent_km as the totals keep it: daily km decayed by age, anchored at the last day."""
    return sum(
        km_per_day * math.exp(-(days - 1 - d) * DAY_S / RECENT_TAU_S) for d in range(int(days))
    )


@pytest.mark.parametrize("days", [2, 10, 30, 90, 400])
def test_usage_recovers_a_steady_daily_distance(days):
    # 40 km every day for `days` days, the last reading now.
    now_s = NOW.timestamp()
    rate = usage_km_per_day(
        recent_km=_decayed_km(40.0, days),
        first_s=now_s - days * DAY_S,
        through_s=now_s,
        now_s=now_s,
    )
    assert rate == pytest.approx(40.0, rel=0.02)


def test_parked_days_count_as_days_without_driving():
    now_s = NOW.timestamp()
    driving = usage_km_per_day(
        recent_km=_decayed_km(40.0, 60), first_s=now_s - 60 * DAY_S, through_s=now_s, now_s=now_s
    )
    parked = usage_km_per_day(
        recent_km=_decayed_km(40.0, 60),
        first_s=now_s - 60 * DAY_S,
        through_s=now_s,
        now_s=now_s + 30 * DAY_S,
    )
    assert parked < driving * 0.7
    # 60 days of 40 km then 30 parked: the decay-weighted average over 90 days.
    weights = [math.exp(-(89 - d) / 30) for d in range(90)]
    expected = sum(40.0 * w for w in weights[:60]) / sum(weights)
    assert parked == pytest.approx(expected, rel=0.03)


def test_a_first_day_counts_as_a_whole_day():
    now_s = NOW.timestamp()
    # A 2-hour, 100 km test drive: 100 km a day, not 1,200.
    rate = usage_km_per_day(recent_km=100.0, first_s=now_s - 7200, through_s=now_s, now_s=now_s)
    assert rate == pytest.approx(100.0, rel=0.02)
    assert usage_km_per_day(recent_km=5.0, first_s=None, through_s=None, now_s=now_s) is None


def test_km_to_takes_the_first_level_to_reach_the_threshold():
    # Front 5 mm losing 0.0002 mm/km, rear 6 mm losing 0.0001 mm/km: front reaches 3 first.
    assert km_to([(5.0, 2e-4), (6.0, 1e-4)], 3.0) == pytest.approx(10_000)
    assert km_to([(5.0, 2e-4), (2.9, 1e-4)], 3.0) == 0.0
    assert km_to([(5.0, None)], 3.0) is None
    assert km_to([(5.0, 0.0), (6.0, 1e-4)], 3.0) == pytest.approx(30_000)


def test_project_gives_distance_and_date_to_each_tier():
    # 40 % oil life losing 0.008 %/km (12,500 km for 100 %) at 50 km a day.
    out = {
        p.tier: p for p in project(levels=[(40.0, 0.008)], thresholds=OIL, km_per_day=50.0, now=NOW)
    }
    assert out["change_soon"].km == pytest.approx(25 / 0.008)
    assert out["due_now"].km == pytest.approx(35 / 0.008)
    assert out["overdue"].km == pytest.approx(40 / 0.008)
    assert out["change_soon"].date == NOW + timedelta(days=25 / 0.008 / 50)
    assert out["overdue"].date == NOW + timedelta(days=100)
    assert not any(p.reached for p in out.values())
    as_json = out["due_now"].to_json()
    assert as_json == {
        "threshold": 5.0,
        "km": 4375.0,
        "date": (NOW + timedelta(days=87.5)).isoformat(),
        "reached": False,
    }


def test_project_marks_reached_tiers_and_unknown_rates():
    out = {
        p.tier: p for p in project(levels=[(4.0, None)], thresholds=OIL, km_per_day=None, now=NOW)
    }
    assert out["change_soon"].reached and out["change_soon"].km == 0.0
    assert out["change_soon"].date == NOW
    assert out["due_now"].reached
    assert not out["overdue"].reached and out["overdue"].km is None and out["overdue"].date is None
    # A car that hardly moves gets a distance but no date beyond ten years.
    (far,) = project(levels=[(90.0, 0.008)], thresholds=[OIL[0]], km_per_day=0.1, now=NOW)
    assert far.km == pytest.approx(75 / 0.008) and far.date is None
    assert MAX_PROJECTION_DAYS < 75 / 0.008 / 0.1


def test_tier_is_the_most_severe_threshold_crossed():
    assert tier_for(50.0, OIL) is None
    assert tier_for(15.0, OIL) == "change_soon"
    assert tier_for(5.0, OIL) == "due_now"
    assert tier_for(0.0, OIL) == "overdue"
    pads = pad_thresholds(4.0)
    assert [t.value for t in pads] == [4.0, 3.5, 3.0]
    assert [tier_for(mm, pads) for mm in (4.5, 3.9, 3.4, 3.0)] == [
        None,
        "change_soon",
        "due_now",
        "overdue",
    ]
    assert tier_for(1.0, [Threshold("a", 2.0), Threshold("b", 1.5)]) == "b"


def test_trend_per_1000_km_and_per_day():
    assert trend(0.008, 50.0) == {"per_1000_km": 8.0, "per_day": 0.4}
    assert trend(0.008, None) == {"per_1000_km": 8.0, "per_day": None}
    assert trend(None, 50.0) == {"per_1000_km": None, "per_day": None}


@pytest.mark.parametrize("change_soon", [15.0, 25.0])
def test_the_oil_band_is_the_tier_its_alert_is_raised_at(change_soon):
    # 3 % raised a due_now alert but showed "due_soon" before: the band and the tier agree
    # at every level, at the configured change-soon threshold too.
    assert oil_band(3.0) == "due_now"
    for life in (100.0, 30.0, 25.0, 20.0, 15.0, 10.0, 5.0, 4.9, 3.0, 0.0, -1.0):
        assert (
            oil_band(life, change_soon) == BAND_OF_TIER[tier_for(life, oil_thresholds(change_soon))]
        ), life


def test_the_pad_band_is_the_tier_its_alert_is_raised_at():
    assert (pad_band(3.4), pad_band(3.0)) == ("due_now", "overdue")
    for mm in (12.0, 5.0, 4.0, 3.6, 3.5, 3.2, 3.0, 1.0):
        assert pad_band(mm) == BAND_OF_TIER[tier_for(mm, pad_thresholds())], mm
