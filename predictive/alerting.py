# SPDX-License-Identifier: MIT
"""When to tell the owner to change the oil: from the pessimistic edge of the estimate and
the vehicle's own usage, so the alert comes a fixed lead ahead of the part's end.

A fixed percentage ("alert at 15 %") is too early for a car whose estimate is sure and too
late for one whose estimate is not: it is 1,800 km of warning at 12,000 km per oil life,
whatever the uncertainty. Instead the alert is raised once the life left at the pessimistic
edge of the band (a one-sided quantile of a log-normal spread around the median) would run
out within the lead the owner needs: ``LEAD_KM`` or ``LEAD_DAYS`` of the car's own recent
driving, whichever is shorter, plus ``CHECK_DAYS`` of driving so the next evaluation is not
already too late. Pure numpy: the offline evaluation replays the same rule on every trip.

The quantile is the alert recall the service promises (99 % of oil lives alerted in time).
While a vehicle has no completed oil change of its own the band is the fleet's, and the
hidden spread between engines makes that margin wide; after one change the vehicle's own
factor is known and the band narrows (``learned.band_scale``).
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# The alert must reach the owner at least this far ahead of the end of the oil's life (the
# service target: 500 km or a week, so a workshop slot can be booked).
LEAD_KM = 500.0
LEAD_DAYS = 7.0
# Evaluations run as data arrives; a quarter day of driving between the last one that did not
# alert and the one that does is the margin against alerting one evaluation too late.
CHECK_DAYS = 0.25
# In an interval with no used-oil analysis of the vehicle's own yet (``oil_analysis``), a
# sample is asked for once the fleet model says this much of the oil's life is gone: late
# enough that the lab's error is small against the life consumed, early enough that the
# result is back before the change alert.
SAMPLE_AT_PCT = 50.0
# One-sided probability that the true life left is at least the pessimistic figure.
ALERT_QUANTILE = 0.99


def z_score(quantile: float = ALERT_QUANTILE) -> float:
    """Standard-normal quantile for the band edge (2.33 at 99 %)."""
    return NormalDist().inv_cdf(quantile)


def pessimistic_consumed(
    consumed_mid: npt.ArrayLike, log_sigma: npt.ArrayLike, quantile: float = ALERT_QUANTILE
) -> FloatArray:
    """Life consumed (percentage points) at the pessimistic ``quantile`` of a log-normal
    spread ``log_sigma`` around the median ``consumed_mid``."""
    mid = np.asarray(consumed_mid, dtype=np.float64)
    return mid * np.exp(z_score(quantile) * np.maximum(log_sigma, 0.0))


def lead_km(km_per_day: npt.ArrayLike) -> FloatArray:
    """Km of warning needed at this usage: the shorter of LEAD_KM and LEAD_DAYS of driving,
    plus CHECK_DAYS of driving."""
    r = np.maximum(np.asarray(km_per_day, dtype=np.float64), 0.0)
    return np.minimum(LEAD_KM, LEAD_DAYS * r) + CHECK_DAYS * r


def slack_km(
    *,
    consumed_pess: npt.ArrayLike,
    km_since_change: npt.ArrayLike,
    km_per_day: npt.ArrayLike,
    min_km: float = 1.0,
    left_pct: npt.ArrayLike | None = None,
) -> FloatArray:
    """Km of pessimistic life left beyond the lead needed; the alert is due at or below 0.

    The pessimistic life left (100 − ``consumed_pess``, or ``left_pct`` where a lab measured
    it: ``oil_anchor``) is spent at the interval's own pessimistic rate (consumed per km since
    the change). Before ``min_km`` of driving the rate is unknown and nothing is due unless
    the life is already gone.
    """
    consumed = np.asarray(consumed_pess, dtype=np.float64)
    km = np.asarray(km_since_change, dtype=np.float64)
    left_pct = 100.0 - consumed if left_pct is None else np.asarray(left_pct, dtype=np.float64)
    per_km = consumed / np.maximum(km, min_km)
    with np.errstate(divide="ignore", invalid="ignore"):
        left_km = np.where(per_km > 0, left_pct / per_km, np.inf)
    left_km = np.where(km < min_km, np.where(left_pct <= 0, 0.0, np.inf), left_km)
    return left_km - lead_km(km_per_day)


def usage_km_per_day(day: npt.ArrayLike, km: npt.ArrayLike, tau_days: float) -> FloatArray:
    """Recent km per day after each trip (trip end ``day`` in days since the car was first
    seen, its ``km``), decay-weighted.

    The same estimate as ``projection.usage_km_per_day`` on the evaluator's running totals:
    Σ km·exp(−age/τ) over τ(1 − exp(−span/τ)), the span (since first seen) at least one day.
    """
    d = np.asarray(day, dtype=np.float64)
    k = np.asarray(km, dtype=np.float64)
    if d.size == 0:
        return np.zeros(0)
    # Anchored at the last trip so the exponent stays small: exp((d - d_last)/τ) <= 1.
    weight = np.exp((d - d[-1]) / tau_days)
    recent = np.cumsum(k * weight) / weight
    span = np.maximum(d, 1.0)
    return recent / (tau_days * -np.expm1(-span / tau_days))
