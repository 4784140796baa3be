# SPDX-License-Identifier: MIT
"""``evaluate``: the held-out side scored, every service policy replayed on the same drives."""

from __future__ import annotations

import dataclasses
import functools
import zlib
from typing import Any

import numpy as np

from modellab import stats
from modellab.drives import FloatArray, VehicleLog
from modellab.oil_replay import OilLab, PolicyResult, physics_consumed, replay_oil
from modellab.outcomes import LifeOutcome
from modellab.pad_replay import PadResult, pad_feature_rows, replay_pads, shop_visits
from modellab.policy import INTERVALS, OIL_LAB_SD_PCT, OIL_LAB_SD_SENSITIVITY
from predictive import alerting, learned


def _mean(parts: list[FloatArray]) -> float | None:
    joined = np.concatenate(parts) if parts else np.zeros(0)
    return round(float(joined.mean()), 3) if joined.size else None


def _lead_summary(outcomes: list[LifeOutcome]) -> dict[str, Any]:
    crossed = [o for o in outcomes if o.crossing is not None]
    alerted = [o for o in outcomes if o.alert is not None]
    km = [o.lead_km for o in crossed if o.lead_km is not None]
    days = [o.lead_days for o in crossed if o.lead_days is not None]

    def pct(values: list[float]) -> dict[str, float] | None:
        if not values:
            return None
        q = np.percentile(values, [0, 10, 50, 90])
        return {k: round(float(v), 1) for k, v in zip(("min", "p10", "p50", "p90"), q, strict=True)}

    return {
        "crossings": len(crossed),
        "alerted_in_time": sum(o.in_time for o in crossed),
        "alerts": len(alerted),
        "early_alerts": sum(o.early for o in alerted),
        "lead_km": pct(km),
        "lead_days": pct(days),
    }


def evaluate(
    logs: list[VehicleLog],
    models: learned.LearnedModels,
    *,
    seed: int,
    trace_vehicles: int = 4,
) -> dict[str, Any]:
    """Every figure of the report on these (held-out) vehicles, and traces for the plots."""
    rng = np.random.default_rng([seed, 0xE7A1])
    engines = [log for log in logs if log.has_engine]
    shown = {log.vin for log in engines[:trace_vehicles]}
    learned_oil = PolicyResult()
    # The same policy on features from the estimated oil temperature (no PID 0x5C).
    estimated_oil = PolicyResult()
    # The same model alerting at a fixed percentage: its median, and its band's low edge.
    median_oil = PolicyResult()
    band_oil = PolicyResult()
    physics_oil = PolicyResult()
    intervals = {name: PolicyResult() for name in INTERVALS}
    pads = PadResult()
    # The same policy without the first interval's oil sample: OBD and drained-oil analyses.
    obd_only = PolicyResult()
    lab_sensitivity = {sd: PolicyResult() for sd in OIL_LAB_SD_SENSITIVITY}
    for log in logs:
        changes: list[int] = []
        if log.has_engine:
            model = functools.partial(
                replay_oil,
                predictor=lambda x, _eff: models.oil.consumed(x),
                factor_prior=models.oil.factor_prior_weight,
                log_sigma=models.oil.log_sigma,
            )
            lab_seed = zlib.crc32(f"{seed}:{log.vin}".encode())
            lab = OilLab(OIL_LAB_SD_PCT, alerting.SAMPLE_AT_PCT, lab_seed)
            changes = model(
                log,
                learned_oil,
                alert="projection",
                lab=lab,
                keep_trace=log.vin in shown,
            )
            model(
                log,
                obd_only,
                alert="projection",
                lab=dataclasses.replace(lab, sample_at_pct=None),
            )
            for sd, result in lab_sensitivity.items():
                model(
                    log,
                    result,
                    alert="projection",
                    lab=dataclasses.replace(lab, sd_pct=sd),
                )
            if log.oil_x_est is not None:
                model(
                    dataclasses.replace(log, oil_x=log.oil_x_est),
                    estimated_oil,
                    alert="projection",
                    lab=lab,
                )
            for variant, result in (("median", median_oil), ("band", band_oil)):
                model(log, result, alert=variant, lab=lab)
            replay_oil(log, physics_oil, predictor=physics_consumed)
            for name, interval in INTERVALS.items():
                replay_oil(log, intervals[name], interval=interval)
        prior = models.pads.coeff(pad_feature_rows(log))
        replay_pads(
            log,
            pads,
            prior=prior,
            visits=shop_visits(log, changes),
            rng=rng,
            keep_trace=log.vin in shown or (not shown and log is logs[0]),
        )
    oil_lead = _lead_summary(learned_oil.outcomes)
    obd_lead = _lead_summary(obd_only.outcomes)
    by_life = {
        name: _lead_summary(
            [
                o
                for o, f in zip(learned_oil.outcomes, learned_oil.first_life, strict=True)
                if f == first
            ]
        )
        for name, first in (("first_life", True), ("later_lives", False))
    }
    pad_lead = _lead_summary(pads.outcomes)

    def recall(oil_part: dict[str, Any]) -> dict[str, Any]:
        return stats.rate(
            oil_part["alerted_in_time"] + pad_lead["alerted_in_time"],
            oil_part["crossings"] + pad_lead["crossings"],
        )

    def early(oil_part: dict[str, Any]) -> dict[str, Any]:
        return stats.rate(
            oil_part["early_alerts"] + pad_lead["early_alerts"],
            oil_part["alerts"] + pad_lead["alerts"],
        )

    def wasted(r: PolicyResult) -> float | None:
        return round(float(np.mean(r.wasted_pct)), 2) if r.wasted_pct else None

    interval_waste = {k: wasted(r) for k, r in intervals.items()}
    best = min((v for v in interval_waste.values() if v is not None), default=None)

    def waste_ratio(r: PolicyResult) -> float | None:
        w = wasted(r)
        return round(w / best, 3) if w is not None and best else None

    # The headline is what a car gets with nothing but its dongle (issue 19): the OBD-only
    # policy; the lab's rows come beneath it.
    recall_obd, recall_lab = recall(obd_lead), recall(oil_lead)
    early_obd, early_lab = early(obd_lead), early(oil_lead)
    return {
        "vehicles": len(logs),
        "vins": [log.vin for log in logs],
        "engine_vehicles": len(engines),
        "trips": int(sum(log.day.size for log in logs)),
        "km": round(float(sum(log.km.sum() for log in logs)), 0),
        "oil_mae_pct": _mean(obd_only.abs_err),
        "oil_mae_pct_with_lab": _mean(learned_oil.abs_err),
        "oil_mae_pct_physics": _mean(physics_oil.abs_err),
        "oil_mae_pct_estimated_oil_temp": _mean(estimated_oil.abs_err),
        "pad_mae_mm_prior": _mean(pads.err_prior),
        "pad_mae_mm_calibrated": _mean(pads.err_calibrated),
        "pad_mae_mm_physics": _mean(pads.err_physics),
        "alert_recall": recall_obd["rate"],
        "alert_recall_lower95": recall_obd["low95"],
        "early_alert_rate_obd_only": early_obd["rate"],
        "early_alert_rate": early_lab["rate"],
        "wasted_life_vs_best_interval": waste_ratio(obd_only),
        "wasted_life_vs_best_interval_with_lab": waste_ratio(learned_oil),
        "band_coverage_80": _mean(obd_only.band_hits),
        "band_coverage_80_with_lab": _mean(learned_oil.band_hits),
        "oil_pinball_pct": _mean(obd_only.pinball),
        "oil_pinball_pct_with_lab": _mean(learned_oil.pinball),
        "rates": {
            "alert_recall_obd_only": recall_obd,
            "alert_recall_with_lab": recall_lab,
            "early_alert_rate_obd_only": early_obd,
            "early_alert_rate_with_lab": early_lab,
        },
        "oil": {
            "model_obd_only": {
                "changes": obd_only.changes,
                "wasted_pct": wasted(obd_only),
                "missed": obd_only.missed,
                **obd_lead,
            },
            "model": {
                "changes": learned_oil.changes,
                "wasted_pct": wasted(learned_oil),
                "missed": learned_oil.missed,
                "lab_sd_pct": OIL_LAB_SD_PCT,
                "first_interval_samples": learned_oil.samples,
                **oil_lead,
                "by_life": {
                    k: {"crossings": v["crossings"], "alerted_in_time": v["alerted_in_time"]}
                    for k, v in by_life.items()
                },
            },
            **{
                f"model_lab_sd_{sd:g}_pct": {
                    "changes": r.changes,
                    "wasted_pct": wasted(r),
                    "missed": r.missed,
                    **_lead_summary(r.outcomes),
                }
                for sd, r in lab_sensitivity.items()
            },
            "model_estimated_oil_temp": {
                "changes": estimated_oil.changes,
                "wasted_pct": wasted(estimated_oil),
                "missed": estimated_oil.missed,
                **_lead_summary(estimated_oil.outcomes),
            },
            "model_alert_on_median_15": {
                "changes": median_oil.changes,
                "wasted_pct": wasted(median_oil),
                "missed": median_oil.missed,
                **_lead_summary(median_oil.outcomes),
            },
            "model_alert_on_band": {
                "changes": band_oil.changes,
                "wasted_pct": wasted(band_oil),
                "missed": band_oil.missed,
                **_lead_summary(band_oil.outcomes),
            },
            "physics_only": {
                "changes": physics_oil.changes,
                "wasted_pct": wasted(physics_oil),
                "missed": physics_oil.missed,
                **_lead_summary(physics_oil.outcomes),
            },
            **{
                name: {"changes": r.changes, "wasted_pct": interval_waste[name], "missed": r.missed}
                for name, r in intervals.items()
            },
        },
        "pads": {"replacements": pads.replacements, "missed": pads.missed, **pad_lead},
        "traces": {"oil": learned_oil.traces, "pads": pads.traces},
    }
