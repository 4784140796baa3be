# SPDX-License-Identifier: MIT
"""A hand-made vehicle log for the model lab's tests: one petrol car, a trip a day of
1,000 km, 100 MJ of braking and 10 stops, 3 M effective revolutions, 10 points of oil life and
0.1 mm per axle of pad wear each."""

import numpy as np

from modellab.drives import VehicleLog
from predictive import learned


def vehicle_log(n: int, **overrides) -> VehicleLog:
    """``n`` trips; ``overrides`` replace any field (a truth and its oil channels, say)."""
    fields = {
        "vin": "WLTEST00000000001",
        "kind": "petrol",
        "profile": "commuter",
        "mass_kg": 1400.0,
        "day": np.arange(1.0, n + 1),
        "km": np.full(n, 1000.0),
        "braking_mj": np.full(n, 100.0),
        "stops": np.full(n, 10.0),
        "oil_x": np.zeros((n, len(learned.OIL_FEATURES))),
        "eff_mrevs": np.full(n, 3.0),
        "oil_true_pct": np.full(n, 10.0),  # 10 points per 1,000 km: empty after 10,000 km
        "pad_true_mm": np.full((n, 2), 0.1),
    }
    return VehicleLog(**(fields | overrides))
