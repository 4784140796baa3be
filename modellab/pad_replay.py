# SPDX-License-Identifier: MIT
"""Brake pads replayed on a vehicle's logged drives: the fleet prior until a shop's first
measurement, recalibrated at each one, replaced when the model alerts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from modellab.drives import FloatArray, VehicleLog
from modellab.outcomes import LifeOutcome, life_outcome
from modellab.policy import (
    EV_INSPECTION_DAY,
    NEW_PAD_MM,
    PAD_DUE_MM,
    PAD_EARLY_ABOVE_MM,
    PAD_THRESHOLD_MM,
)
from predictive import brakes, learned


def pad_feature_rows(log: VehicleLog, sl: slice = slice(None)) -> FloatArray:
    """``learned.PAD_FEATURES`` after each trip, from the vehicle's driving since enrollment."""
    cum_km = np.maximum(np.cumsum(log.km), 1e-3)[sl]
    mj = np.cumsum(log.braking_mj)[sl] / cum_km
    stops = np.cumsum(log.stops)[sl] / cum_km
    per_day = cum_km / np.maximum(log.day[sl], 1.0)
    return np.array(
        [
            learned.pad_features(
                mass_kg=log.mass_kg, kind=log.kind, mj_per_km=a, stops_per_km=b, km_per_day=c
            )
            for a, b, c in zip(mj, stops, per_day, strict=True)
        ]
    ).reshape(-1, len(learned.PAD_FEATURES))


def measure(true_mm: FloatArray, rng: np.random.Generator) -> FloatArray:
    """A shop's pad gauge reading (±learned.MEASUREMENT_SD_MM)."""
    return true_mm + rng.normal(0.0, learned.MEASUREMENT_SD_MM, size=np.shape(true_mm))


PHYSICS_PAD_COEFF = np.array(
    [brakes.WEAR_MM_PER_MJ * brakes.FRONT_SHARE, brakes.WEAR_MM_PER_MJ * (1 - brakes.FRONT_SHARE)]
)


@dataclass
class PadResult:
    """Pad predictions replayed on many vehicles."""

    err_prior: list[FloatArray] = field(default_factory=list)  # before the first measurement
    err_calibrated: list[FloatArray] = field(default_factory=list)
    err_physics: list[FloatArray] = field(default_factory=list)
    outcomes: list[LifeOutcome] = field(default_factory=list)
    replacements: int = 0
    missed: int = 0
    traces: dict[str, dict[str, Any]] = field(default_factory=dict)


def shop_visits(log: VehicleLog, oil_changes: list[int]) -> list[int]:
    """Trips after which a shop measures the pads: every oil change (no engine oil: every
    EV_INSPECTION_DAY days)."""
    if log.has_engine:
        return list(oil_changes)
    due = np.arange(
        EV_INSPECTION_DAY, float(log.day[-1]) if log.day.size else 0.0, EV_INSPECTION_DAY
    )
    return sorted({int(i) for i in np.searchsorted(log.day, due)} - {log.day.size})


def replay_pads(
    log: VehicleLog,
    result: PadResult,
    *,
    prior: FloatArray,
    visits: list[int],
    rng: np.random.Generator,
    keep_trace: bool = False,
) -> None:
    """Pads from new at enrollment, replaced when the model alerts; measured at ``visits``.

    Each measurement recalibrates the vehicle's coefficients (wear since the pads were new
    over the braking energy since then); until the first one the fleet prior applies.
    """
    n, start = log.day.size, 0
    k_post: FloatArray | None = None
    # The fleet prior's spread for this car: wider where its mass is only a class default.
    prior_sd = learned.pad_wear_rel_sd(log.mass_rel_sd)
    trace: dict[str, Any] = {"day": [], "true": [], "pred": [], "visit_day": None}
    while start < n:
        sl = slice(start, n)
        day0 = log.day[start - 1] if start else 0.0
        cum_mj = np.cumsum(log.braking_mj[sl])
        true_left = NEW_PAD_MM - np.cumsum(log.pad_true_mm[sl], axis=0)
        physics = NEW_PAD_MM - cum_mj[:, None] * PHYSICS_PAD_COEFF
        coeff = prior[sl] if k_post is None else k_post
        pred = NEW_PAD_MM - cum_mj[:, None] * coeff
        calibrated = np.full(cum_mj.size, k_post is not None)
        for m in sorted(v - start for v in visits if start <= v < n):
            if (pred[: m + 1].min(axis=1) <= PAD_DUE_MM).any():
                break  # replaced at the alert before this visit
            measured = measure(true_left[m], rng)
            base = prior[start + m] if k_post is None else k_post
            k_post = np.array(
                [
                    learned.calibrate_pad_coeff(
                        float(base[a]),
                        NEW_PAD_MM - float(measured[a]),
                        float(cum_mj[m]),
                        prior_rel_sd=prior_sd if k_post is None else learned.PRIOR_REL_SD,
                    )
                    for a in range(2)
                ]
            )
            pred[m:] = measured - (cum_mj[m:, None] - cum_mj[m]) * k_post
            calibrated[m:] = True
            if trace["visit_day"] is None:
                trace["visit_day"] = float(log.day[start + m])
        out = life_outcome(
            log.day[sl] - day0,
            np.cumsum(log.km[sl]),
            true_left.min(axis=1),
            pred.min(axis=1),
            alert_at=PAD_DUE_MM,
            threshold=PAD_THRESHOLD_MM,
            early_above=PAD_EARLY_ABOVE_MM,
        )
        result.outcomes.append(out)
        change = out.alert
        if out.crossing is not None and (change is None or out.crossing <= change):
            result.missed += 1
        end = cum_mj.size if change is None else change + 1
        err = np.abs(pred[:end] - true_left[:end]).mean(axis=1)
        result.err_prior.append(err[~calibrated[:end]])
        result.err_calibrated.append(err[calibrated[:end]])
        result.err_physics.append(np.abs(physics[:end] - true_left[:end]).mean(axis=1))
        if keep_trace:
            trace["day"] += log.day[start : start + end].tolist()
            trace["true"] += true_left[:end].tolist()
            trace["pred"] += pred[:end].tolist()
        if change is None:
            break
        result.replacements += 1
        start += change + 1
    if keep_trace:
        result.traces[log.vin] = trace
