# SPDX-License-Identifier: MIT
"""Oil life from temperature-weighted engine revolutions.

Oil degrades with the work the engine does, which is close to proportional to the number of
crankshaft revolutions, and with the temperature it does it at. We integrate revolutions from
irregularly spaced rpm samples, weight each interval by how hard that oil temperature is on
the oil, and spend the sum against a fixed budget. Pure numpy; the database lives elsewhere.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# Longest interval between two samples that still counts. The edge agent polls each signal
# about once a second; anything much longer is a logging gap or the car parked, and a parked
# engine does not wear its oil. 30 s tolerates a few dropped batches without inventing work.
MAX_DT_S = 30.0
# Kilometres driven between the last oil change and the first reading we see (a car enrolled
# mid-interval) are charged at the wear of typical mixed driving: the budget over ~12,000 km.
NOMINAL_EFFECTIVE_REVS_PER_KM = 30e6 / 12_000

# Budget in effective revolutions. Mixed driving runs ~2,400 rev/km (2,000 rpm at 50 km/h
# average, idling included), and cold starts lift the effective figure ~10-20 %: 30 M effective
# revolutions is then ~11,000-12,500 km, inside the 10,000-15,000 km of typical long-life
# service intervals for modern synthetic oils.
BUDGET_EFFECTIVE_REVS = 30e6

# Cold oil (< ~60 °C) collects fuel dilution and water condensation that a warm engine boils
# off; short trips are the classic "severe service". The weight rises linearly from 1 at
# COLD_FULL_C to COLD_MAX_WEIGHT at COLD_ZERO_C and below.
COLD_FULL_C = 70.0
COLD_ZERO_C = 20.0
COLD_MAX_WEIGHT = 2.5

# Above ~110 °C oxidation takes over; its rate roughly doubles per +10 °C (Arrhenius rule of
# thumb for lubricant oxidation). Capped so one absurd reading cannot empty the budget.
HOT_START_C = 110.0
HOT_DOUBLING_C = 10.0
HOT_MAX_WEIGHT = 16.0

# Oil also ages without being worked: it oxidises and takes up moisture in the sump, so the
# oil-life monitors carmakers ship end an interval after a year whatever the wear ("at least
# once a year"). A distance cap backs the wear model up: no interval runs past the longest
# that long-life oils are approved for, whatever the accumulator says.
MAX_OIL_AGE_DAYS = 365.0
MAX_OIL_KM = 20_000.0

# Temperature assumed when the car reports neither oil nor coolant temperature: normal
# operating range, weight 1, so such cars fall back to a plain revolution count.
DEFAULT_OIL_TEMP_C = 90.0


def temperature_weight(oil_temp_c: npt.ArrayLike) -> FloatArray:
    """Wear multiplier for oil at these temperatures (1 in the normal 80-110 °C range)."""
    t = np.asarray(oil_temp_c, dtype=np.float64)
    cold = 1.0 + (COLD_MAX_WEIGHT - 1.0) * np.clip(
        (COLD_FULL_C - t) / (COLD_FULL_C - COLD_ZERO_C), 0.0, 1.0
    )
    hot = np.minimum(np.exp2(np.maximum(t - HOT_START_C, 0.0) / HOT_DOUBLING_C), HOT_MAX_WEIGHT)
    return cold * hot


def hold_values(
    t_s: FloatArray, sample_t_s: FloatArray, sample_values: FloatArray, default: float
) -> FloatArray:
    """Value of a sampled signal at times ``t_s``: the latest sample at or before each time."""
    if sample_t_s.size == 0:
        return np.full(t_s.shape, default)
    idx = np.searchsorted(sample_t_s, t_s, side="right") - 1
    # Before the first sample we know nothing better than the first sample itself.
    return sample_values[np.clip(idx, 0, None)]


def interval_revolutions(
    t_s: npt.ArrayLike, rpm: npt.ArrayLike, max_dt_s: float = MAX_DT_S
) -> FloatArray:
    """Revolutions in each interval between consecutive samples (trapezoid, dt capped)."""
    t = np.asarray(t_s, dtype=np.float64)
    r = np.asarray(rpm, dtype=np.float64)
    if t.size < 2:
        return np.zeros(0)
    dt = np.minimum(np.diff(t), max_dt_s)
    return (r[1:] + r[:-1]) / 2.0 / 60.0 * dt


def effective_revolutions(
    t_s: npt.ArrayLike, rpm: npt.ArrayLike, oil_temp_c: npt.ArrayLike, max_dt_s: float = MAX_DT_S
) -> FloatArray:
    """Temperature-weighted revolutions per interval; temperature taken at each interval start.

    ``oil_temp_c`` is aligned with ``t_s`` (see ``hold_values``).
    """
    revs = interval_revolutions(t_s, rpm, max_dt_s)
    if revs.size == 0:
        return revs
    return revs * temperature_weight(np.asarray(oil_temp_c, dtype=np.float64)[:-1])


def oil_life_pct(effective_revs: float, budget: float = BUDGET_EFFECTIVE_REVS) -> float:
    """Remaining oil life in percent after this many effective revolutions (never below 0)."""
    return float(max(0.0, 100.0 * (1.0 - effective_revs / budget)))


def remaining_km(
    effective_revs: float, revs_per_km: float | None, budget: float = BUDGET_EFFECTIVE_REVS
) -> float | None:
    """Kilometres until the budget is spent at this wear rate, or None if the rate is unknown."""
    if revs_per_km is None or not np.isfinite(revs_per_km) or revs_per_km <= 0:
        return None
    return float(max(0.0, (budget - effective_revs) / revs_per_km))


def capped_life_pct(
    wear_life_pct: float, *, days_since_change: float | None, km_since_change: float
) -> tuple[float, str]:
    """Oil life after the time and distance caps, and the limit that governs it.

    Each limit is a straight line from 100 % at the change to 0 % at its cap; the lowest of
    the wear model's figure and the two lines is the oil's life. Returns ``(life, limit)``
    with ``limit`` one of ``"wear"``, ``"time"``, ``"distance"``.
    """
    candidates = [(wear_life_pct, "wear")]
    if days_since_change is not None:
        candidates.append((100.0 * (1.0 - days_since_change / MAX_OIL_AGE_DAYS), "time"))
    candidates.append((100.0 * (1.0 - km_since_change / MAX_OIL_KM), "distance"))
    life, limit = min(candidates, key=lambda c: c[0])
    return float(max(0.0, min(100.0, life))), limit
