# SPDX-License-Identifier: MIT
"""Figures with their uncertainty: Wilson intervals for rates, a band's coverage, and the
pinball loss of predicted quantiles (a proper scoring rule: it is lowest, on average, for the
quantiles of the true distribution, so a band cannot score well by being wide or narrow)."""

from __future__ import annotations

import math

import numpy as np

from modellab.drives import FloatArray

Z95 = 1.959963984540054  # the standard normal's 97.5th percentile


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a rate (95 % by default); None without trials.

    Unlike the normal approximation it stays inside [0, 1] and is honest at the edges:
    126 of 126 gives a lower bound of 0.970, not 1.0.
    """
    if trials <= 0:
        return None
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z / (1 + z2 / trials) * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return max(0.0, centre - half), min(1.0, centre + half)


def rate(successes: int, trials: int) -> dict[str, float | int | None]:
    """A rate with its Wilson 95 % interval, as the report prints it."""
    interval = wilson(successes, trials)
    return {
        "k": successes,
        "n": trials,
        "rate": round(successes / trials, 4) if trials else None,
        "low95": None if interval is None else round(interval[0], 4),
        "high95": None if interval is None else round(interval[1], 4),
    }


def pinball(truth: FloatArray, quantiles: FloatArray, taus: tuple[float, ...]) -> FloatArray:
    """Mean pinball (quantile) loss per row: ``truth`` (n,), ``quantiles`` (n, len(taus))."""
    diff = truth[:, None] - quantiles
    tau = np.asarray(taus, dtype=np.float64)[None, :]
    return np.asarray(np.maximum(tau * diff, (tau - 1.0) * diff).mean(axis=1), dtype=np.float64)


def inside(truth: FloatArray, low: FloatArray, high: FloatArray) -> FloatArray:
    """1.0 where ``truth`` lies within [low, high], else 0.0 (a band's hits, per row)."""
    return np.asarray((truth >= low) & (truth <= high), dtype=np.float64)
