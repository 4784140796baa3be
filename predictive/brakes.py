# SPDX-License-Identifier: MIT
"""Brake-pad wear from the energy the brakes absorb.

Friction pads wear roughly in proportion to the energy they turn into heat. From the speed
trace we take the kinetic energy shed in each decelerating interval and subtract what rolling
resistance and aerodynamic drag would have taken anyway (coasting), leaving the work of the
brakes. A combustion engine takes a share off the throttle (engine braking):
``braking_energy_j(..., engine_brake_mps2=ENGINE_BRAKE_MPS2)`` subtracts it, both for the
friction-energy figure of ``wrenchlight predictive brake-energy`` and in the pad model
(``brake_heat.wear_energy_j``, which also weights each interval by disc temperature).

Two conventions for "kinetic energy shed" differ where the logger skipped samples:

- ``braking_energy_j`` (and ``kinetic_shed_j_per_kg``) count every drop of ½v², also across a
  logging gap: the car did slow down somehow, so the energy went somewhere.
- NREL's drive-cycle statistics (``total_kinetic_power_density_regen`` in the TSDC/CMAP
  ``trips.csv``) compute for each sample the kinetic power density of the interval before
  it, P = Δ(½v²)/Δt = a·v̄ in W/kg, and total the negative ones as a plain sum over samples:
  every sample weighs one second whatever the gap. On 1 Hz data that is exactly the energy
  shed; across a gap of Δt seconds only 1/Δt of the drop counts. ``kinetic_regen_j_per_kg``
  reproduces that figure to float precision for all 125 CMAP trips. Pure numpy.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from predictive import thresholds

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
# at the friction energy of typical mixed driving (UDDS/HWFET 55/45 by distance, 1,400 kg,
# engine braking subtracted: see the tests).
NOMINAL_MJ_PER_KM = 0.078
NOMINAL_MASS_KG = 1400.0  # the car NOMINAL_MJ_PER_KM is for; other masses scale it
# Hybrids and battery-electric cars recover most braking energy in the motor; measured on
# simulated UDDS/HWFET driving, their friction brakes take about a quarter of what a
# combustion car's take, so the pad model scales their braking energy by this share.
REGEN_FRICTION_SHARE = {"hybrid": 0.25, "electric": 0.25}

# Engine braking of a petrol or diesel car off the throttle (overrun fuel cut): a motoring
# torque of ~25 N·m (pumping and friction of a ~2 l engine) through a ~4:1 overall ratio on a
# 0.31 m tyre is ~320 N, ~0.2 m/s² for 1,400 kg; scaled with mass, since engines are. It fades
# out near walking pace (torque converter unlocked, clutch open), modelled as a step at
# ENGINE_BRAKE_MIN_KMH. Rough: only the explicit friction estimate uses it (see module doc).
ENGINE_BRAKE_MPS2 = 0.2
ENGINE_BRAKE_MIN_KMH = 20.0
# Fuel types whose engine brakes the car off the throttle; hybrids and EVs regenerate instead
# (REGEN_FRICTION_SHARE).
ENGINE_BRAKING_FUELS = ("petrol", "diesel")

# Weight transfer puts most of the braking on the front axle; ~70 % is the usual design split.
FRONT_SHARE = 0.70

# Pad wear per MJ of friction energy on an axle. Calibrated so that a 1,400 kg petrol car in
# mixed driving (55 % UDDS + 45 % HWFET by distance, the EPA "combined" split: 0.078 MJ of
# friction braking per km after road losses and engine braking, see the tests) takes new
# 12 mm front pads to the 3 mm minimum in ~50,000 km: 9 mm / (0.7 * 0.078 MJ/km * 50,000 km).
# The same coefficient on the rear gives rear pads about twice the life, as in practice.
WEAR_MM_PER_MJ = 0.0033

# New pads and the wear limit, defined in predictive.thresholds (numpy-free, for the settings).
NEW_PAD_MM = thresholds.NEW_PAD_MM
MIN_PAD_MM = thresholds.MIN_PAD_MM


def braking_energy_j(
    t_s: npt.ArrayLike,
    speed_kmh: npt.ArrayLike,
    *,
    mass_kg: float,
    rolling_resistance: float = ROLLING_RESISTANCE,
    drag_area_m2: float = DRAG_AREA_M2,
    max_dt_s: float = MAX_DT_S,
    engine_brake_mps2: float = 0.0,
    grade: npt.ArrayLike | None = None,
) -> FloatArray:
    """Energy in J absorbed by the brakes in each interval between consecutive samples.

    Kinetic energy shed in the interval, less what the road forces over the interval take:
    rolling resistance, aerodynamic drag, engine braking (``engine_brake_mps2`` of
    deceleration above ``ENGINE_BRAKE_MIN_KMH``; 0 = folded into the wear coefficient, the pad
    model's default) and, with ``grade`` (rise over run at each sample), the slope's gravity
    force, which downhill adds to what the brakes must absorb. The whole speed drop counts,
    also across a logging gap; the road forces are credited for at most ``max_dt_s``.

    With ``rolling_resistance=0`` and ``drag_area_m2=0`` this is the gross kinetic energy shed
    while slowing; NREL's ``total_kinetic_power_density_regen`` equals it on 1 Hz data but
    counts only 1/Δt of a drop across a gap of Δt seconds (``kinetic_regen_j_per_kg``).
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
    if engine_brake_mps2:
        resist_n = resist_n + np.where(
            v_mean * 3.6 >= ENGINE_BRAKE_MIN_KMH, mass_kg * engine_brake_mps2, 0.0
        )
    if grade is not None:
        g = np.asarray(grade, dtype=np.float64)
        if g.shape != v.shape:
            raise ValueError(f"grade has {g.size} samples, speed {v.size}")
        slope = (g[1:] + g[:-1]) / 2.0
        resist_n = resist_n + mass_kg * G_MPS2 * slope / np.sqrt(1.0 + slope**2)
    # Only moving intervals lose energy to the road; a standing car has nothing to shed.
    losses = resist_n * v_mean * dt
    return np.maximum(shed - losses, 0.0)


def kinetic_shed_j_per_kg(t_s: npt.ArrayLike, speed_kmh: npt.ArrayLike) -> FloatArray:
    """Kinetic energy per kg shed in each interval, every drop counted (also across gaps)."""
    return braking_energy_j(t_s, speed_kmh, mass_kg=1.0, rolling_resistance=0.0, drag_area_m2=0.0)


def kinetic_regen_j_per_kg(t_s: npt.ArrayLike, speed_kmh: npt.ArrayLike) -> FloatArray:
    """NREL's ``kinetic_power_density_regen`` per interval, in J/kg (positive).

    The kinetic power density of each interval, P = Δ(½v²)/Δt (W/kg, i.e. a·v̄), where
    negative, times one second: NREL's ``total_kinetic_power_density_regen`` is the plain sum
    of these over a trip's samples (negated). Equal to ``kinetic_shed_j_per_kg`` on 1 Hz data;
    across a logging gap of Δt seconds it counts only 1/Δt of the speed drop. Times must
    increase strictly.
    """
    t = np.asarray(t_s, dtype=np.float64)
    v = np.asarray(speed_kmh, dtype=np.float64) / 3.6
    if t.size < 2:
        return np.zeros(0)
    dt = np.diff(t)
    if not (dt > 0).all():
        raise ValueError("sample times must increase strictly")
    # Power in W/kg; each sample weighs one second whatever the gap, as in NREL's sum.
    return np.maximum(-0.5 * np.diff(v**2) / dt, 0.0)


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
