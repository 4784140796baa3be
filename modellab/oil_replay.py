# SPDX-License-Identifier: MIT
"""Oil service policies replayed on a vehicle's logged drives: the models' alert (physics or
learned, calibrated by used-oil analyses) and fixed intervals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from modellab import stats
from modellab.drives import FloatArray, VehicleLog
from modellab.outcomes import LifeOutcome, first_due, life_outcome
from modellab.policy import (
    LAB_DAYS,
    OIL_DUE_PCT,
    OIL_EARLY_ABOVE_PCT,
    OIL_THRESHOLD_PCT,
    PHYSICS_BUDGET_MREVS,
    RECENT_TAU_DAYS,
)
from predictive import alerting, learned


@dataclass
class PolicyResult:
    """One service policy replayed on many vehicles."""

    wasted_pct: list[float] = field(default_factory=list)  # true life left at each change
    changes: int = 0
    missed: int = 0  # true threshold reached before the change
    outcomes: list[LifeOutcome] = field(default_factory=list)
    first_life: list[bool] = field(default_factory=list)  # per outcome: before any change
    abs_err: list[FloatArray] = field(default_factory=list)
    # Per trip of each life: the truth inside the model's 10-90 % band (1/0), and the pinball
    # loss of its 10/50/90 % life left (points).
    band_hits: list[FloatArray] = field(default_factory=list)
    pinball: list[FloatArray] = field(default_factory=list)
    traces: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    samples: int = 0  # part-way oil analyses taken (``OilLab.sample_at_pct``)


# The quantiles of the models' life left that are scored (a band of 80 % and its median).
BAND_TAUS = (0.1, 0.5, 0.9)

# (cumulative oil features, cumulative effective Mrevs) -> (n, 3) consumed at 10/50/90 %
OilPredictor = Callable[[FloatArray, FloatArray], FloatArray]


def physics_consumed(cum_x: FloatArray, cum_eff_mrevs: FloatArray) -> FloatArray:
    """The physics model alone: consumed = effective revolutions over the budget (no band)."""
    c = cum_eff_mrevs / PHYSICS_BUDGET_MREVS * 100.0
    return np.column_stack([c, c, c])


@dataclass(frozen=True)
class OilLab:
    """Used-oil analyses in a replay: every drained oil is analysed (the label of that change,
    ``learned.OilObservation``), with ``sd_pct`` percentage points of measurement error; with
    ``sample_at_pct`` a vehicle with no completed change of its own also has a sample analysed
    once the fleet model's median says that much of its first oil's life is gone, the result
    arriving ``LAB_DAYS`` later."""

    sd_pct: float = 0.0
    sample_at_pct: float | None = None
    seed: int = 0


def _calibrated(
    fleet: FloatArray,
    observations: list[learned.OilObservation],
    *,
    prior_weight: float,
    log_sigma: float,
) -> tuple[FloatArray, float]:
    """The fleet model's (n, 3) consumption scaled by the vehicle's factor, its band
    narrowed; and the band's scale."""
    cal = learned.vehicle_calibration(observations, prior_weight=prior_weight, log_sigma=log_sigma)
    return cal.apply(fleet), cal.band_scale


def replay_oil(
    log: VehicleLog,
    result: PolicyResult,
    *,
    predictor: OilPredictor | None = None,
    interval: tuple[float, float] | None = None,
    factor_prior: float | None = None,
    alert: str = "median",
    log_sigma: float = 0.0,
    lab: OilLab = OilLab(),
    keep_trace: bool = False,
) -> list[int]:
    """Replay one policy (model alerts, or a fixed interval) on one vehicle; change indices.

    ``alert`` says when the model's policy changes the oil: ``"median"`` once the median life
    is at OIL_DUE_PCT, ``"band"`` once the band's low edge is, ``"projection"`` once the
    pessimistic life left (``alerting``, spread ``log_sigma`` narrowed by the vehicle's own
    oil analyses, ``lab``) would run out within the lead at the vehicle's recent usage.
    """
    n, start = log.day.size, 0
    changes: list[int] = []
    observations: list[learned.OilObservation] = []  # drained-oil analyses, one per change
    rng = np.random.default_rng([lab.seed, 0x0117])
    trace: dict[str, list[float]] = {
        k: [] for k in ("day", "true", "low", "mid", "high", "sample_day")
    }
    usage = alerting.usage_km_per_day(log.day, log.km, RECENT_TAU_DAYS)
    while start < n:
        sl = slice(start, n)
        day0 = log.day[start - 1] if start else 0.0
        day = log.day[sl] - day0
        cum_km = np.cumsum(log.km[sl])
        true_left = 100.0 - log.oil_consumed_pct(start, fill=len(changes))
        if predictor is not None:
            fleet = predictor(np.cumsum(log.oil_x[sl], axis=0), np.cumsum(log.eff_mrevs[sl]))
            consumed, scale = fleet, np.ones(day.size)
            if factor_prior is not None:  # the vehicle's own analyses scale it, narrow its band
                consumed, s0 = _calibrated(
                    fleet, observations, prior_weight=factor_prior, log_sigma=log_sigma
                )
                scale[:] = s0
                if lab.sample_at_pct is not None and not observations:
                    due = np.flatnonzero(fleet[:, 1] >= lab.sample_at_pct)
                    if due.size:
                        k = int(due[0])
                        sample = learned.OilObservation(
                            max(100.0 - float(true_left[k]) + rng.normal(0.0, lab.sd_pct), 0.0),
                            float(fleet[k, 1]),
                            lab.sd_pct,
                        )
                        known = day >= day[k] + LAB_DAYS
                        after, s1 = _calibrated(
                            fleet, [sample], prior_weight=factor_prior, log_sigma=log_sigma
                        )
                        consumed = np.where(known[:, None], after, consumed)
                        scale[known] = s1
                        result.samples += 1
                        trace["sample_day"].append(float(log.day[start + k]))
            left = 100.0 - consumed  # columns: high, mid, low life
            if alert == "projection":
                pess = alerting.pessimistic_consumed(consumed[:, 1], log_sigma * scale)
                watched = alerting.slack_km(
                    consumed_pess=pess,
                    km_since_change=cum_km,
                    km_per_day=usage[sl],
                )
                alert_at = 0.0
            else:
                watched = left[:, 2] if alert == "band" else left[:, 1]
                alert_at = OIL_DUE_PCT
            out = life_outcome(
                day,
                cum_km,
                true_left,
                watched,
                alert_at=alert_at,
                threshold=OIL_THRESHOLD_PCT,
                early_above=OIL_EARLY_ABOVE_PCT,
            )
            change = out.alert
        else:
            assert interval is not None
            change = first_due(cum_km, day, *interval)
            out = life_outcome(
                day,
                cum_km,
                true_left,
                np.full(day.size, np.inf),
                alert_at=0.0,
                threshold=OIL_THRESHOLD_PCT,
                early_above=OIL_EARLY_ABOVE_PCT,
            )
        if out.crossing is not None and (change is None or out.crossing <= change):
            result.missed += 1
        end = n - start if change is None else change + 1
        if predictor is not None:
            result.outcomes.append(out)
            result.first_life.append(start == 0)
            truth = np.maximum(true_left[:end], 0.0)
            result.abs_err.append(np.abs(left[:end, 1] - truth))
            # Life left at 10/50/90 % is the consumption's 90/50/10 %: columns low, mid, high.
            ordered = left[:end, ::-1]
            result.band_hits.append(stats.inside(truth, ordered[:, 0], ordered[:, 2]))
            result.pinball.append(stats.pinball(truth, ordered, BAND_TAUS))
            if keep_trace:
                trace["day"] += log.day[start : start + end].tolist()
                trace["true"] += np.maximum(true_left[:end], 0.0).tolist()
                for col, key in enumerate(("high", "mid", "low")):
                    trace[key] += left[:end, col].tolist()
        if change is None:
            break
        result.changes += 1
        result.wasted_pct.append(max(float(true_left[change]), 0.0))
        if predictor is not None:
            measured = 100.0 - float(true_left[change]) + rng.normal(0.0, lab.sd_pct)
            observations.append(
                learned.OilObservation(max(measured, 0.0), float(fleet[change, 1]), lab.sd_pct)
            )
        changes.append(start + change)
        start += change + 1
    if keep_trace:
        result.traces[log.vin] = trace
    return changes
