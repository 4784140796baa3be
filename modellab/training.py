# SPDX-License-Identifier: MIT
"""``train``: the learned oil correction and pad-wear prior, fitted on the training side of
the fleet only."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from modellab.drives import FloatArray, VehicleLog
from modellab.oil_replay import PolicyResult, replay_oil
from modellab.pad_replay import measure, pad_feature_rows
from modellab.policy import INTERVALS, NEW_PAD_MM, OIL_LAB_SD_PCT, TRAINING_INTERVAL
from predictive import learned


def training_examples(
    logs: list[VehicleLog], seed: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Oil (features, consumed as a lab measures it, vehicle) at each completed fixed-interval
    change of the training fleet, and pad (features, coefficient) at each vehicle's last shop
    visit."""
    rng = np.random.default_rng([seed, 0xA11])
    lab = np.random.default_rng([seed, 0x1AB])  # its own stream: the pad draws stay put
    oil_x, oil_y, oil_g, pad_x, pad_y = [], [], [], [], []
    for g, log in enumerate(logs):
        changes = replay_oil(log, PolicyResult(), interval=INTERVALS[TRAINING_INTERVAL])
        bounds = [0, *(c + 1 for c in changes)]
        if log.has_engine:
            for fill, (a, b) in enumerate(itertools.pairwise(bounds)):
                oil_x.append(log.oil_x[a:b].sum(axis=0))
                # The drained oil's analysis, as the service gets it from a lab.
                consumed = (
                    float(log.oil_true_pct[a:b].sum())  # the simulator's own, summed as ever
                    if log.truth is None
                    else float(log.oil_consumed_pct(a, b, fill=fill)[-1])
                )
                measured = consumed + lab.normal(0.0, OIL_LAB_SD_PCT)
                oil_y.append(max(measured, 0.0))
                oil_g.append(g)
        visit = changes[-1] if changes else log.day.size - 1
        cum_mj = float(log.braking_mj[: visit + 1].sum())
        if visit < 0 or cum_mj < 1.0:
            continue
        worn = NEW_PAD_MM - measure(NEW_PAD_MM - log.pad_true_mm[: visit + 1].sum(axis=0), rng)
        pad_x.append(pad_feature_rows(log, slice(visit, visit + 1))[0])
        pad_y.append(np.maximum(worn, 0.01) / cum_mj)
    nx, npad = len(learned.OIL_FEATURES), len(learned.PAD_FEATURES)
    return (
        np.array(oil_x).reshape(-1, nx),
        np.array(oil_y),
        np.array(oil_g, dtype=np.float64),
        np.array(pad_x).reshape(-1, npad),
        np.array(pad_y).reshape(-1, 2),
    )


def train(logs: list[VehicleLog], *, seed: int, manifest: dict[str, Any]) -> learned.LearnedModels:
    """Fit both learned models on training vehicles' service outcomes."""
    ox, oy, og, px, py = training_examples(logs, seed)
    if len(oy) < len(learned.OIL_FEATURES) or len(py) < 5:
        raise ValueError(
            f"too few training examples ({len(oy)} oil changes, {len(py)} pad measurements): "
            "simulate more vehicles or days"
        )
    oil_model = learned.OilCorrection().fit(ox, oy, og, label_sd=OIL_LAB_SD_PCT)
    pad_model = learned.PadPrior().fit(px, py)
    fit = oil_model.consumed(ox)
    fit_k = pad_model.coeff(px)
    return learned.LearnedModels(
        oil_model,
        pad_model,
        {
            **manifest,
            "training_vehicles": len(logs),
            "oil_examples": len(oy),
            "pad_examples": len(py),
            "training_interval": TRAINING_INTERVAL,
            "oil_label_sd_pct": OIL_LAB_SD_PCT,
            "oil_fit_mae_pct": round(float(np.mean(np.abs(fit[:, 1] - oy))), 3),
            "oil_fit_band_coverage": round(
                float(np.mean((oy >= fit[:, 0]) & (oy <= fit[:, 2]))), 3
            ),
            "pad_fit_rel_mae": round(float(np.mean(np.abs(fit_k / py - 1.0))), 4),
            "oil_coefficients": dict(
                zip(learned.OIL_FEATURES, oil_model.models[0].coef_.round(4).tolist(), strict=True)
            ),
            "oil_band_ratio": oil_model.models[1].round(4).tolist(),
            "oil_factor_prior_weight": round(oil_model.factor_prior_weight, 4),
        },
    )
