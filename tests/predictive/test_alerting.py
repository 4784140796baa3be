# SPDX-License-Identifier: MIT
"""predictive.alerting: the oil alert from the pessimistic life left and the car's own usage."""

import numpy as np
import pytest

from predictive import alerting


def test_pessimistic_edge_is_the_one_sided_quantile_of_the_log_normal_spread():
    assert alerting.z_score(0.99) == pytest.approx(2.326, abs=1e-3)
    assert alerting.pessimistic_consumed([50.0], 0.1, 0.99)[0] == pytest.approx(
        50.0 * np.exp(0.2326), rel=1e-3
    )
    assert alerting.pessimistic_consumed([50.0], 0.0)[0] == 50.0


def test_lead_is_the_shorter_of_500_km_and_a_week_plus_a_quarter_day():
    lead = alerting.lead_km([10.0, 60.0, 200.0])
    assert lead == pytest.approx([70.0 + 2.5, 420.0 + 15.0, 500.0 + 50.0])


def test_alert_is_due_once_the_pessimistic_life_left_is_within_the_lead():
    # 90 % consumed over 9,000 km: 10 % left lasts 1,000 km at 0.01 %/km.
    slack = alerting.slack_km(
        consumed_pess=[90.0, 90.0, 96.0], km_since_change=[9000.0] * 3, km_per_day=[40, 200, 40]
    )
    assert slack[0] == pytest.approx(1000.0 - 290.0)  # a light driver: a week is 280 km
    assert slack[1] == pytest.approx(1000.0 - 550.0)
    assert slack[2] == pytest.approx(9000 * 4 / 96 - 290.0)
    later = alerting.slack_km(consumed_pess=[97.0], km_since_change=[9000.0], km_per_day=[40.0])
    assert slack[2] > 0 > later[0]


def test_nothing_is_due_before_any_driving_unless_the_life_is_gone():
    slack = alerting.slack_km(
        consumed_pess=[5.0, 100.0], km_since_change=[0.0, 0.0], km_per_day=[40.0, 40.0]
    )
    assert np.isinf(slack[0]) and slack[1] < 0


def test_usage_is_decay_weighted_km_per_day():
    # 40 km every day for 90 days (trips ending on days 1..90): 40 km a day throughout.
    day = np.arange(1.0, 91.0)
    usage = alerting.usage_km_per_day(day, np.full(90, 40.0), tau_days=30.0)
    assert usage[-1] == pytest.approx(40.0, rel=0.02)
    assert usage[0] == pytest.approx(40.0, rel=0.02)  # one day's driving counts as a day
    # A car that stops driving: the estimate falls towards zero.
    km = np.where(day <= 45, 40.0, 0.0)
    assert alerting.usage_km_per_day(day, km, tau_days=30.0)[-1] < 15.0
