# SPDX-License-Identifier: MIT
"""Brake-pad wear from the energy the brakes absorb.

Friction pads wear roughly in proportion to the energy they turn into heat. From the speed
trace we take the kinetic energy shed in each decelerating interval and subtract what rolling
resistance and aerodynamic drag would have taken anyway (coasting), leaving the work of the
brakes. Engine braking also takes a share; that is folded into the wear coefficient rather
than modelled, because the OBD signals we have cannot separate it. Pure numpy.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

G_MPS2 = 9.81
AIR_DENSITY_KG_M3 = 1.2
# A mid-size car on asphalt: tyre rolling-resistance coefficient and drag area (Cd ~0.30 times
# ~2.2 m² frontal area). They only set how much deceleration is "free"; pad wear is tolerant.
ROLLING_RESISTANCE = 0.010
DRAG_AREA_M2 = 0.65

# Same reasoning as the oil model: a longer gap is lost data, not minutes of coasting. The
# speed drop across a gap still counts (the car did stop somehow), but the losses that could
# have absorbed it are credited for at most this long.
MAX_DT_S = 30.0
# Kilometres driven between the last pad measurement and the first reading we see are charged
# at the braking energy of typical mixed driving (UDDS/HWFET 55/45 by distance).
NOMINAL_MJ_PER_KM = 0.112
# Hybrids and battery-electric cars recover most braking energy in the motor; measured on
# simulated UDDS/HWFET driving, their friction brakes take about a quarter of what a
# combustion car's take, so the pad model scales their braking energy by this share.
REGEN_FRICTION_SHARE = {"hybrid": 0.25, "electric": 0.25}

# Weight transfer puts most of the braking on the front axle; ~70 % is the usual design split.
FRONT_SHARE = 0.70

# Pad wear per MJ of braking energy on an axle. Calibrated so that a 1,400 kg car in mixed
# driving (55 % UDDS + 45 % HWFET by distance, the EPA "combined" split: 0.112 MJ of braking
# per km after losses, see the tests) takes new 12 mm front pads to the 3 mm minimum in
# ~50,000 km: 9 mm / (0.7 * 0.112 MJ/km * 50,000 km). The same coefficient on the rear gives
# rear pads about twice the life, as in practice.
WEAR_MM_PER_MJ = 0.0023

NEW_PAD_MM = 12.0
MIN_PAD_MM = 3.0


def braking_energy_j(
    t_s: npt.ArrayLike,
    speed_kmh: npt.ArrayLike,
    *,
    mass_kg: float,
    rolling_resistance: float = ROLLING_RESISTANCE,
    drag_area_m2: float = DRAG_AREA_M2,
    max_dt_s: float = MAX_DT_S,
) -> FloatArray:
    """Energy in J absorbed by the brakes in each interval between consecutive samples.

    With ``rolling_resistance=0`` and ``drag_area_m2=0`` this is the gross kinetic energy shed
    while slowing, the quantity NREL's drive-cycle statistics call ``kinetic ... regen``.
    """
    t = np.asarray(t_s, dtype=np.float64)
    v = np.asarray(speed_kmh, dtype=np.float64) / 3.6
    if t.size < 2:
        return np.zeros(0)
    dt = np.minimum(np.diff(t), max_dt_s)
    shed = -0.5 * mass_kg * np.diff(v**2)
    v_mean = (v[1:] + v[:-1]) / 2.0
    resist_n = mass_kg * G_MPS2 * rolling_resistance + 0.5 * AIR_DENSITY_KG_M3 * drag_area_m2 * (
        v_mean**2
    )
    # Only moving intervals lose energy to the road; a standing car has nothing to shed.
    losses = resist_n * v_mean * dt
    return np.maximum(shed - losses, 0.0)


def distance_km(
    t_s: npt.ArrayLike, speed_kmh: npt.ArrayLike, max_dt_s: float = MAX_DT_S
) -> FloatArray:
    """Kilometres driven in each interval (trapezoid, dt capped)."""
    t = np.asarray(t_s, dtype=np.float64)
    v = np.asarray(speed_kmh, dtype=np.float64)
    if t.size < 2:
        return np.zeros(0)
    dt = np.minimum(np.diff(t), max_dt_s)
    return (v[1:] + v[:-1]) / 2.0 * dt / 3600.0


def pad_wear_mm(braking_mj: float) -> tuple[float, float]:
    """(front, rear) pad wear in mm for this much braking energy."""
    return (
        WEAR_MM_PER_MJ * FRONT_SHARE * braking_mj,
        WEAR_MM_PER_MJ * (1.0 - FRONT_SHARE) * braking_mj,
    )


def remaining_km(
    pad_front_mm: float, pad_rear_mm: float, mj_per_km: float | None, min_pad_mm: float = MIN_PAD_MM
) -> float | None:
    """Kilometres until the first axle reaches ``min_pad_mm`` at this braking rate."""
    if mj_per_km is None or not np.isfinite(mj_per_km) or mj_per_km <= 0:
        return None
    front_mm_per_km, rear_mm_per_km = pad_wear_mm(mj_per_km)
    return float(
        max(
            0.0,
            min(
                (pad_front_mm - min_pad_mm) / front_mm_per_km,
                (pad_rear_mm - min_pad_mm) / rear_mm_per_km,
            ),
        )
    )
