# SPDX-License-Identifier: MIT
"""The learned oil correction applied to the evaluator's running totals.

``learned.oil_features`` describes one trip; the evaluator sees readings chunk by chunk, so
``chunk_features`` computes the same additive features over a chunk (revolutions by oil
temperature band, load-weighted revolutions split at ``LOAD_SPLIT_C``, and the severity of
every key-on with cold oil: the first sample ever, or the first with the engine turning after a
stop or a gap longer than ``oil.MAX_DT_S``). Summed over chunks they are the features of the
whole interval since the oil change, which is what ``learned.OilCorrection`` takes.

``oil_estimate`` turns them into the oil life with its band and whether the projection alert
(``alerting``) is due. The vehicle's own used-oil analyses (``oil_analysis``) scale the fleet
model and narrow its band; without any, the fleet band applies and, once the fleet model says
``alerting.SAMPLE_AT_PCT`` of the life is gone, a sample is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from predictive import alerting, learned, oil

FloatArray = npt.NDArray[np.float64]


def chunk_features(
    t_s: FloatArray,
    rpm: FloatArray,
    oil_temp_c: FloatArray,
    load_pct: FloatArray,
    *,
    carried: bool,
) -> FloatArray:
    """``learned.OIL_FEATURES`` over one chunk of aligned samples.

    ``carried``: the first sample is the previous chunk's last (its interval counts here, its
    key-on was counted there).
    """
    n = len(learned.OIL_FEATURES)
    if t_s.size == 0:
        return np.zeros(n)
    temp = np.asarray(oil_temp_c, dtype=np.float64)
    revs = oil.interval_revolutions(t_s, rpm)
    by_band = np.bincount(
        np.searchsorted(learned.TEMP_BANDS_C, temp[:-1]),
        weights=revs,
        minlength=len(learned.TEMP_BANDS_C) + 1,
    )
    load = np.clip(np.asarray(load_pct, dtype=np.float64)[:-1] / 100.0, 0.0, 1.0)
    cool = temp[:-1] < learned.LOAD_SPLIT_C
    by_load = [float((revs * load)[cool].sum()), float((revs * load)[~cool].sum())]
    turning = np.asarray(rpm, dtype=np.float64) > 0.0
    key_on = np.zeros(t_s.size, dtype=bool)
    key_on[1:] = turning[1:] & (~turning[:-1] | (np.diff(t_s) > oil.MAX_DT_S))
    key_on[0] = turning[0] and not carried
    cold = np.maximum(learned.COLD_START_BELOW_C - temp[key_on], 0.0) / learned.COLD_START_BELOW_C
    return np.concatenate((by_band / 1e6, np.array(by_load) / 1e6, [float(cold.sum())]))


@dataclass(frozen=True)
class OilEstimate:
    """Oil life from the learned correction: the median and the 10-90 % band, in percent."""

    life_pct: float
    low_pct: float  # pessimistic (90 % of the consumption quantiles)
    high_pct: float
    per_km_pct: float | None  # median consumption per km since the change
    projection_due: bool  # the pessimistic life left is within the lead (alerting.slack_km)
    fleet_consumed_pct: float  # the fleet model's median, before the vehicle's factor
    calibration: learned.VehicleCalibration
    analyses: int  # the vehicle's analyses the calibration counts
    sample_due: bool  # no analysis of its own, and the fleet model says SAMPLE_AT_PCT is gone


def oil_estimate(
    models: learned.LearnedModels,
    features: npt.ArrayLike,
    *,
    km: float,
    unobserved_km: float,
    km_per_day: float | None,
    min_rate_km: float,
    observations: tuple[learned.OilObservation, ...] = (),
) -> OilEstimate:
    """Oil life after ``km`` observed and ``unobserved_km`` unobserved km since the change,
    calibrated by the vehicle's analyses (``observations``).

    Unobserved km are charged at the physics model's nominal wear, as the physics path does;
    below ``min_rate_km`` no consumption per km is given.
    """
    fleet = models.oil.consumed(np.asarray(features, dtype=np.float64).reshape(1, -1))[0]
    nominal = unobserved_km * oil.NOMINAL_EFFECTIVE_REVS_PER_KM / oil.BUDGET_EFFECTIVE_REVS
    fleet = fleet + 100.0 * nominal
    cal = learned.vehicle_calibration(
        list(observations),
        prior_weight=models.oil.factor_prior_weight,
        log_sigma=models.oil.log_sigma,
    )
    consumed = cal.apply(fleet)
    total_km = km + unobserved_km
    pess = alerting.pessimistic_consumed(consumed[1], models.oil.log_sigma * cal.band_scale)
    slack = alerting.slack_km(
        consumed_pess=pess,
        km_since_change=total_km,
        km_per_day=0.0 if km_per_day is None else km_per_day,
    )
    return OilEstimate(
        life_pct=float(max(0.0, 100.0 - consumed[1])),
        low_pct=float(max(0.0, 100.0 - consumed[2])),
        high_pct=float(max(0.0, 100.0 - consumed[0])),
        per_km_pct=float(consumed[1] / total_km) if total_km >= min_rate_km else None,
        projection_due=bool(slack <= 0.0),
        fleet_consumed_pct=float(fleet[1]),
        calibration=cal,
        analyses=len(observations),
        sample_due=bool(not observations and fleet[1] >= alerting.SAMPLE_AT_PCT and slack > 0.0),
    )
