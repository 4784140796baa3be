# SPDX-License-Identifier: MIT
"""Brake-disc temperature over successive stops, and how it speeds up pad wear.

One stop from 100 km/h warms the front discs of a mid-size car by ~55 K; they shed it in a few
minutes of driving. Stops that follow each other faster than that (a descent, hard urban
driving, a track day) stack up, and once the friction interface passes ~300 °C the pad's
binder starts to break down and wear per joule rises steeply (the onset of fade). Archard's
law with a constant coefficient misses exactly the driving that wears pads fastest.

A lumped model of the front axle's two discs: heated by the front share of the friction
energy, cooled by convection that grows with road speed (vented discs pump air), and towards
ambient when the car stands or across a gap in the data. The wear factor is 1 below
``WEAR_ONSET_C`` and doubles every ``WEAR_DOUBLING_K`` above it, capped. Pure numpy.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from predictive import brakes
from predictive.lag import first_order_lag

FloatArray = npt.NDArray[np.float64]

# Two cast-iron front discs of ~7 kg (460 J/kg/K).
DISC_J_PER_K = 2 * 7.0 * 460.0
# Convective cooling: ~7 W/K standing (a time constant of ~15 min) rising with speed to
# ~45 W/K at 100 km/h (~2.5 min).
COOL_W_PER_K = 7.0
COOL_W_PER_K_PER_MPS = 1.35
# Pad wear per joule rises above this disc temperature, doubling every WEAR_DOUBLING_K.
WEAR_ONSET_C = 300.0
WEAR_DOUBLING_K = 50.0
WEAR_MAX_FACTOR = 8.0
# Intervals longer than this are a stop or lost data: the discs only cool.
MAX_DT_S = brakes.MAX_DT_S
DEFAULT_AMBIENT_C = 15.0


def wear_factor(disc_c: npt.ArrayLike) -> FloatArray:
    """Multiplier of the pad-wear coefficient at this disc temperature (1 below the onset)."""
    over = np.maximum(np.asarray(disc_c, dtype=np.float64) - WEAR_ONSET_C, 0.0)
    return np.minimum(np.exp2(over / WEAR_DOUBLING_K), WEAR_MAX_FACTOR)


def disc_temperature_c(
    t_s: npt.ArrayLike,
    speed_kmh: npt.ArrayLike,
    friction_j: npt.ArrayLike,
    *,
    ambient_c: npt.ArrayLike,
    initial_c: float | None = None,
) -> FloatArray:
    """Front-disc temperature at each sample time.

    ``friction_j`` is the friction-brake energy of each interval (one fewer than samples);
    ``ambient_c`` is aligned with ``t_s``; without ``initial_c`` the discs start at ambient.
    """
    t = np.asarray(t_s, dtype=np.float64)
    amb = np.asarray(ambient_c, dtype=np.float64)
    if t.size == 0:
        return np.zeros(0)
    x0 = float(amb[0]) if initial_c is None else float(initial_c)
    if t.size == 1:
        return np.array([x0])
    dt = np.diff(t)
    v = np.asarray(speed_kmh, dtype=np.float64) / 3.6
    driving = dt <= MAX_DT_S
    h = COOL_W_PER_K + np.where(driving, COOL_W_PER_K_PER_MPS * (v[1:] + v[:-1]) / 2.0, 0.0)
    heat_w = np.where(
        driving, brakes.FRONT_SHARE * np.asarray(friction_j) / np.maximum(dt, 1e-9), 0.0
    )
    target = amb[:-1] + heat_w / h
    a = np.exp(-h * dt / DISC_J_PER_K)
    return np.concatenate(([x0], first_order_lag(a, target, x0)))


def wear_energy_j(
    t_s: npt.ArrayLike,
    speed_kmh: npt.ArrayLike,
    *,
    mass_kg: float,
    engine_braking: bool,
    ambient_c: npt.ArrayLike,
    friction_share: float = 1.0,
    initial_disc_c: float | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Wear-equivalent friction energy of each interval, and the disc temperature at each
    sample.

    The friction energy is the kinetic energy shed less rolling resistance, drag and, for a
    combustion engine (``engine_braking``), ``brakes.ENGINE_BRAKE_MPS2`` of engine braking,
    times ``friction_share`` (regeneration takes the rest); each interval's energy is then
    weighted by ``wear_factor`` of the disc temperature it ends at.
    """
    friction = brakes.braking_energy_j(
        t_s,
        speed_kmh,
        mass_kg=mass_kg,
        engine_brake_mps2=brakes.ENGINE_BRAKE_MPS2 if engine_braking else 0.0,
    )
    friction = friction * friction_share
    disc = disc_temperature_c(
        t_s, speed_kmh, friction, ambient_c=ambient_c, initial_c=initial_disc_c
    )
    return friction * wear_factor(disc[1:]), disc
