# SPDX-License-Identifier: MIT
"""A first-order lag (x relaxes towards a target) over irregular intervals, vectorised.

Shared by the lumped thermal models: the oil sump (``oil_temp.py``) and the brake discs
(``brake_heat.py``). Pure numpy.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# Chunks of the recurrence keep the summed exponents small enough for float64 (e^±700).
_MAX_EXPONENT = 500.0


def first_order_lag(a: FloatArray, target: FloatArray, x0: float) -> FloatArray:
    """Solve x[k] = target[k] + a[k] (x[k-1] - target[k]) from x[-1] = x0, for 0 < a <= 1.

    Closed form per chunk: with A the running product of ``a``,
    x = A (x_start + Σ (1 - a) target / A); chunks end before A underflows.
    """
    n = a.size
    out = np.empty(n)
    log_a = np.log(np.maximum(a, np.exp(-_MAX_EXPONENT / 2)))
    start, x_start = 0, float(x0)
    while start < n:
        cum = np.cumsum(log_a[start:])
        end = start + max(1, int(np.searchsorted(-cum, _MAX_EXPONENT, side="right")))
        big_a = np.exp(cum[: end - start])
        drive = (1.0 - a[start:end]) * target[start:end]
        out[start:end] = big_a * (x_start + np.cumsum(drive / big_a))
        x_start = float(out[end - 1])
        start = end
    return out
