# SPDX-License-Identifier: MIT
"""Vectorised longitudinal vehicle physics: road load, gear choice, engine, heat, wear.

Every function works on whole numpy arrays (one element per time step) so a trip
is simulated with a few dozen array operations instead of a Python loop per second.
"""

from __future__ import annotations

import math

import numpy as np

G_MPS2 = 9.81
AIR_DENSITY_KGM3 = 1.2
PETROL_MJ_PER_L = 32.0
DIESEL_MJ_PER_L = 35.9

# Coolant loop: lumped thermal mass of block + coolant, and the share of fuel
# power that ends up in it (the rest leaves through exhaust and the crankshaft).
ENGINE_HEAT_CAPACITY_J_PER_K = 60_000.0
COOLANT_HEAT_SHARE = 0.28
THERMOSTAT_C = 90.0
# Above the thermostat the radiator opens; a large conductance holds ~90-95 °C.
RADIATOR_W_PER_K = 4_000.0
ENGINE_LOSS_W_PER_K = 25.0
# Oil follows the coolant with a lag and runs hotter under load (bearing friction).
OIL_TAU_S = 420.0
OIL_LOAD_RISE_C_PER_PCT = 0.22
# Parked: Newton cooling toward ambient; oil sump sheds heat more slowly than coolant.
PARKED_COOLANT_TAU_S = 2_700.0
PARKED_OIL_TAU_S = 3_600.0
# Temperatures move over minutes, so integrating them every few seconds loses
# nothing visible and cuts the only sequential loop by this factor.
THERMAL_STEP_S = 5.0


def road_force_n(speed_mps: np.ndarray, mass_kg: float, crr: float, cda_m2: float) -> np.ndarray:
    """Rolling resistance plus aerodynamic drag at the given speeds."""
    rolling = np.where(speed_mps > 0.05, mass_kg * G_MPS2 * crr, 0.0)
    return rolling + 0.5 * AIR_DENSITY_KGM3 * cda_m2 * speed_mps**2


def choose_gears(
    speed_mps: np.ndarray,
    accel_mps2: np.ndarray,
    ratios: np.ndarray,
    final_drive: float,
    tyre_radius_m: float,
    upshift_rpm: float,
) -> np.ndarray:
    """Gear index per step: the highest gear keeping rpm above the upshift point."""
    wheel_rpm = speed_mps / (2.0 * math.pi * tyre_radius_m) * 60.0
    engine_rpm = wheel_rpm[:, None] * ratios[None, :] * final_drive
    # Accelerating drivers hold gears longer; this is what makes aggressive
    # driving spin the engine (and wear the oil) more per km.
    threshold = upshift_rpm * (1.0 + 0.35 * np.clip(accel_mps2, 0.0, 2.0))
    ok = engine_rpm >= threshold[:, None]
    # Highest acceptable gear; first gear when none qualifies (pulling away).
    best = np.where(ok.any(axis=1), ratios.size - 1 - np.argmax(ok[:, ::-1], axis=1), 0)
    return best


def engine_rpm(
    speed_mps: np.ndarray,
    gear: np.ndarray,
    ratios: np.ndarray,
    final_drive: float,
    tyre_radius_m: float,
    idle_rpm: float,
) -> np.ndarray:
    """Engine speed: wheel speed through the gearbox, never below idle (clutch slip)."""
    wheel_rpm = speed_mps / (2.0 * math.pi * tyre_radius_m) * 60.0
    rpm = wheel_rpm * ratios[gear] * final_drive
    return np.maximum(rpm, idle_rpm)


def max_torque_nm(rpm: np.ndarray, peak_torque_nm: float, idle_rpm: float) -> np.ndarray:
    """Full-load torque curve: rises from 70 % at idle to the peak around 3000 rpm."""
    x = np.clip((rpm - idle_rpm) / (3000.0 - idle_rpm), 0.0, 1.0)
    fall = np.clip((rpm - 4500.0) / 2500.0, 0.0, 0.3)
    return peak_torque_nm * (0.7 + 0.3 * x - fall)


def integrate_thermal(
    heat_w: np.ndarray,
    load_pct: np.ndarray,
    ambient_c: float,
    coolant0_c: float,
    oil0_c: float,
    dt_s: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Coolant and oil temperature per step for a running engine (coarse explicit Euler)."""
    n = heat_w.size
    block = max(1, min(n, round(THERMAL_STEP_S / dt_s)))
    starts = np.arange(0, n, block)
    lens = np.diff(np.append(starts, n))
    heat_b = (np.add.reduceat(heat_w, starts) / lens).tolist()
    load_b = (np.add.reduceat(load_pct, starts) / lens).tolist()
    steps_s = (lens * dt_s).tolist()
    cool, oil = coolant0_c, oil0_c
    cool_out = [0.0] * len(starts)
    oil_out = [0.0] * len(starts)
    c_j = ENGINE_HEAT_CAPACITY_J_PER_K
    # The only sequential loop of a trip; kept to plain floats for speed.
    for i, h in enumerate(steps_s):
        q = COOLANT_HEAT_SHARE * heat_b[i] - ENGINE_LOSS_W_PER_K * (cool - ambient_c)
        if cool > THERMOSTAT_C:
            q -= RADIATOR_W_PER_K * (cool - THERMOSTAT_C)
        cool += h * q / c_j
        target = cool + OIL_LOAD_RISE_C_PER_PCT * load_b[i]
        oil += min(1.0, h / OIL_TAU_S) * (target - oil)
        cool_out[i] = cool
        oil_out[i] = oil
    # Back to one value per step: block i's result belongs to its last step, and
    # steps before the first block ends blend from the starting temperatures.
    t_block = np.concatenate(([-1.0], starts + lens - 1.0))
    t = np.arange(n, dtype=float)
    coolant = np.interp(t, t_block, [coolant0_c, *cool_out])
    oil_c = np.interp(t, t_block, [oil0_c, *oil_out])
    return coolant, oil_c


def parked_temperature(temp_c: float, ambient_c: float, duration_s: float, tau_s: float) -> float:
    """Newton cooling toward ambient over a parked interval (exact exponential)."""
    return ambient_c + (temp_c - ambient_c) * math.exp(-max(duration_s, 0.0) / tau_s)


def oil_wear_factor(oil_temp_c: np.ndarray) -> np.ndarray:
    """Relative oil degradation per revolution: 1 when warm, up to 3 cold, rising when hot."""
    cold = 2.0 * np.clip((75.0 - oil_temp_c) / 55.0, 0.0, 1.0)
    hot = np.clip((oil_temp_c - 115.0) / 15.0, 0.0, None) ** 2
    return 1.0 + cold + hot
