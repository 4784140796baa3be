# SPDX-License-Identifier: MIT
"""The oil life from a lab's analysis of the oil in the engine.

A part-way sample measures the oil now in the engine: it is better evidence of the life left
than any model of it. So once an interval has one (``oil_analysis.OilAnchor``), the oil life
is the life the lab measured less what the model says was consumed since the sample: the
model's consumption now less its consumption at the prediction the sample was compared with
(the learned correction, scaled to this engine, when its artifacts are loaded; the physics
model's effective revolutions otherwise). Without a prediction of the interval before the
sample, everything since the change counts as consumed since the sample: the life is then
understated, never overstated. The band is the lab's (10-90 %) widened by the model's on the
consumption since; the learned lead rule (``alerting.slack_km``) runs from the lab's
pessimistic figure. Pure numpy: no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

from predictive import alerting, learned, oil
from predictive.oil_analysis import OilAnchor
from predictive.totals import OilTotals

# The 10-90 % band edges of a normal spread, in standard deviations.
Z90 = NormalDist().inv_cdf(0.9)


@dataclass(frozen=True)
class AnchoredLife:
    """The oil life (before the time and distance caps) from the lab's figure."""

    life_pct: float
    consumed_since_pct: float
    band_pct: tuple[float, float]
    projection_due: bool | None  # the learned lead rule; None on the physics model

    def evidence(self, anchor: OilAnchor, analyses: int) -> dict[str, Any]:
        """What a prediction's evidence says of the anchor (``analysis``)."""
        return {
            "analysis_id": anchor.analysis_id,
            "life_left_pct": anchor.life_left_pct,
            "sd_pct": anchor.sd_pct,
            "sampled_s": anchor.sampled_s,
            "consumed_since_pct": round(self.consumed_since_pct, 2),
            "band_pct": [round(self.band_pct[0], 2), round(self.band_pct[1], 2)],
            "oil_analyses": analyses,
        }


def _effective(t: OilTotals) -> float:
    return t.effective_revs + t.unobserved_km * oil.NOMINAL_EFFECTIVE_REVS_PER_KM


def totals_at_sample(anchor: OilAnchor, version: str) -> OilTotals:
    """The oil totals at the sample: those of the prediction it was compared with, if one of
    this interval with totals of the current model ``version``; else none (the change)."""
    if anchor.state is None or (anchor.version or "").split("+")[0] != version:
        return OilTotals()
    return OilTotals.from_json(anchor.state)


def _clip(pct: float) -> float:
    return float(min(100.0, max(0.0, pct)))


def anchored_life(
    anchor: OilAnchor,
    now: OilTotals,
    then: OilTotals,
    *,
    models: learned.LearnedModels | None = None,
    calibration: learned.VehicleCalibration | None = None,
    consumed_mid_pct: float | None = None,
    km_per_day: float | None = None,
) -> AnchoredLife:
    """The lab's life left less what was consumed between the totals ``then`` and ``now``.

    With ``models`` (and the features in both totals) the consumption since is the learned
    correction's, scaled by ``calibration``; ``consumed_mid_pct`` (its median over the whole
    interval) then gives the pessimistic rate for the lead rule.
    """
    lab = anchor.life_left_pct
    spread = Z90 * anchor.sd_pct
    if models is not None and now.oil_features is not None:
        feats_then = then.oil_features or [0.0] * len(now.oil_features)
        fleet = models.oil.consumed(np.array([now.oil_features, feats_then], dtype=np.float64))
        nominal = (now.unobserved_km - then.unobserved_km) * oil.NOMINAL_EFFECTIVE_REVS_PER_KM
        diff = fleet[0] - fleet[1] + 100.0 * nominal / oil.BUDGET_EFFECTIVE_REVS
        cal = calibration or learned.VehicleCalibration()
        low, mid, high = (max(0.0, float(q)) for q in cal.apply(diff))
        sigma = models.oil.log_sigma * cal.band_scale
        pess_left = lab - alerting.z_score() * anchor.sd_pct
        pess_left -= float(alerting.pessimistic_consumed(mid, sigma))
        total_mid = max(consumed_mid_pct or 0.0, 0.0)
        slack = alerting.slack_km(
            consumed_pess=alerting.pessimistic_consumed(total_mid, sigma),
            km_since_change=now.km + now.unobserved_km,
            km_per_day=0.0 if km_per_day is None else km_per_day,
            left_pct=pess_left,
        )
        return AnchoredLife(
            life_pct=_clip(lab - mid),
            consumed_since_pct=mid,
            band_pct=(_clip(lab - high - spread), _clip(lab - low + spread)),
            projection_due=bool(slack <= 0.0),
        )
    since = max(0.0, 100.0 * (_effective(now) - _effective(then)) / oil.BUDGET_EFFECTIVE_REVS)
    return AnchoredLife(
        life_pct=_clip(lab - since),
        consumed_since_pct=since,
        band_pct=(_clip(lab - since - spread), _clip(lab - since + spread)),
        projection_due=None,
    )
