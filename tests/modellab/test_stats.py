# SPDX-License-Identifier: MIT
"""modellab.stats: Wilson intervals, band coverage and the pinball loss on known cases."""

import numpy as np
import pytest

from modellab import stats


def test_wilson_interval_of_known_rates():
    # By hand: centre (p + z²/2n)/(1 + z²/n), half-width z/(1 + z²/n)·√(p(1-p)/n + z²/4n²).
    low, high = stats.wilson(126, 126)
    assert high == pytest.approx(1.0) and low == pytest.approx(0.9704, abs=5e-4)
    low, high = stats.wilson(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=5e-4)
    low, high = stats.wilson(18, 126)
    assert low == pytest.approx(0.0923, abs=5e-4) and high == pytest.approx(0.2145, abs=5e-4)
    assert stats.wilson(0, 0) is None


def test_more_trials_narrow_the_interval_around_the_same_rate():
    narrow = stats.wilson(990, 1000)
    wide = stats.wilson(99, 100)
    assert narrow is not None and wide is not None
    assert narrow[0] > wide[0] and narrow[1] - narrow[0] < wide[1] - wide[0]


def test_rate_reports_counts_and_bounds():
    r = stats.rate(125, 126)
    assert (r["k"], r["n"], r["rate"]) == (125, 126, round(125 / 126, 4))
    assert r["low95"] < r["rate"] < r["high95"] <= 1.0


def test_the_pinball_loss_is_lowest_for_the_true_quantiles():
    rng = np.random.default_rng(7)
    truth = rng.normal(50.0, 10.0, 20_000)
    taus = (0.1, 0.5, 0.9)
    true_q = np.quantile(truth, taus)

    def loss(q):
        return stats.pinball(truth, np.tile(q, (truth.size, 1)), taus).mean()

    best = loss(true_q)
    for wrong in (true_q * [0.9, 1.0, 1.1], true_q * [1.05, 1.0, 0.95], true_q + 3.0):
        assert loss(wrong) > best


def test_coverage_counts_the_truths_inside_the_band():
    truth = np.array([1.0, 5.0, 9.0, 11.0])
    hits = stats.inside(truth, np.full(4, 2.0), np.full(4, 10.0))
    assert hits.tolist() == [0.0, 1.0, 1.0, 0.0]
