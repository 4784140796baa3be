# SPDX-License-Identifier: MIT
"""Scoring candidate shops: each criterion scaled to 0..1, then a weighted sum.

Pure functions on plain values, so the breakdown stored with an order can be recomputed and
explained. A criterion a shop has no data for (a new shop without ratings) gets a neutral
prior rather than 0, so newcomers are not shut out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# A rating of a shop with few reviews is pulled towards this prior, as if it had
# RATING_PRIOR_COUNT reviews of RATING_PRIOR each (a Bayesian average).
RATING_PRIOR, RATING_PRIOR_COUNT = 3.5, 20
# Prior on-time rate and survey score of a shop with no history.
ON_TIME_PRIOR, SURVEY_PRIOR = 0.8, 7.0
# A shop answering offers within this median time scores 0.5 on response; faster is better.
RESPONSE_HALF_S = 300.0
# This many free slots before the due date count as full capacity.
FULL_CAPACITY_SLOTS = 10


@dataclass(frozen=True)
class MatchWeights:
    """Relative weight of each criterion; they need not sum to 1 (they are normalised)."""

    distance: float = 0.35
    quality: float = 0.25
    response: float = 0.15
    price: float = 0.15
    capacity: float = 0.10

    def normalised(self) -> dict[str, float]:
        """The weights summing to 1."""
        raw = asdict(self)
        total = sum(raw.values())
        if total <= 0 or any(v < 0 for v in raw.values()):
            raise ValueError("weights must be non-negative and not all zero")
        return {k: v / total for k, v in raw.items()}


@dataclass(frozen=True)
class Candidate:
    """What matching knows about one shop for one order."""

    shop_id: int
    name: str
    distance_km: float
    rating: float | None
    rating_count: int
    on_time_rate: float | None
    survey_mean: float | None
    survey_count: int
    response_median_s: float | None
    free_slots: int
    price: float | None
    currency: str


def quality(c: Candidate) -> float:
    """0..1 from the rating (Bayesian average), the on-time rate and the owners' surveys."""
    rating = (RATING_PRIOR * RATING_PRIOR_COUNT + (c.rating or 0.0) * c.rating_count) / (
        RATING_PRIOR_COUNT + c.rating_count
    )
    on_time = ON_TIME_PRIOR if c.on_time_rate is None else c.on_time_rate
    survey = (SURVEY_PRIOR * 5 + (c.survey_mean or 0.0) * c.survey_count) / (5 + c.survey_count)
    return 0.5 * rating / 5.0 + 0.3 * on_time + 0.2 * survey / 10.0


def score(
    candidates: list[Candidate], *, radius_km: float, weights: MatchWeights
) -> list[tuple[Candidate, dict[str, Any]]]:
    """Candidates best first, each with its breakdown: criteria scores, weights and total."""
    w = weights.normalised()
    prices = [c.price for c in candidates if c.price is not None]
    cheapest = min(prices) if prices else None
    ranked = []
    for c in candidates:
        response_s = RESPONSE_HALF_S if c.response_median_s is None else c.response_median_s
        criteria = {
            "distance": max(0.0, 1.0 - c.distance_km / radius_km),
            "quality": quality(c),
            "response": RESPONSE_HALF_S / (RESPONSE_HALF_S + response_s),
            # The cheapest scores 1; a shop without a listed price gets the middle.
            "price": 0.5 if c.price is None or not cheapest else cheapest / max(c.price, 0.01),
            "capacity": min(1.0, c.free_slots / FULL_CAPACITY_SLOTS),
        }
        total = sum(w[k] * v for k, v in criteria.items())
        breakdown: dict[str, Any] = {
            "total": round(total, 4),
            "criteria": {k: round(v, 4) for k, v in criteria.items()},
            "weights": {k: round(v, 4) for k, v in w.items()},
            "inputs": {
                "distance_km": round(c.distance_km, 3),
                "rating": c.rating,
                "rating_count": c.rating_count,
                "on_time_rate": c.on_time_rate,
                "survey_mean": c.survey_mean,
                "response_median_s": c.response_median_s,
                "free_slots": c.free_slots,
                "price": c.price,
                "currency": c.currency,
            },
        }
        ranked.append((c, breakdown))
    ranked.sort(key=lambda cb: (-cb[1]["total"], cb[0].distance_km, cb[0].shop_id))
    return ranked
