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


# Brake discs, per axle: lumped heat capacity of both discs (cast iron, ~460 J/kg/K) and a
# convective cooling conductance that grows with road speed (the wheel pumps air through
# vented discs). Cooling time constant ~13 min parked, ~2 min at 100 km/h.
DISC_FRONT_J_PER_K = 2 * 7.0 * 460.0
DISC_REAR_J_PER_K = 2 * 4.5 * 460.0
DISC_COOL_W_PER_K_FRONT = (8.0, 1.65)  # constant, and per m/s of road speed
# Pad wear per joule is roughly constant until the friction interface passes ~300 °C; above
# that the binder degrades and the wear rate about doubles per 60 K (fade territory).
DISC_WEAR_ONSET_C = 300.0
DISC_WEAR_DOUBLING_K = 60.0
DISC_WEAR_MAX_FACTOR = 8.0
# Segments longer than this are split for the disc recurrence so exp(-sum) stays well scaled.
RECURRENCE_CHUNK = 256


class Segments:
    """Several independent runs (trips) laid end to end in one flat array."""

    def __init__(self, lens: np.ndarray) -> None:
        self.lens = np.asarray(lens, dtype=np.int64)
        self.count = int(self.lens.size)
        self.starts = np.cumsum(self.lens) - self.lens
        self.ends = self.starts + self.lens - 1  # index of each segment's last step
        self.n = int(self.lens.sum())
        self.of = np.repeat(np.arange(self.count), self.lens)
        self.pos = np.arange(self.n) - self.spread(self.starts)

    def spread(self, per_segment: np.ndarray) -> np.ndarray:
        """One value per step from one per segment (np.repeat: far cheaper than indexing)."""
        return np.repeat(per_segment, self.lens)

    def blocks(self, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Split every segment into blocks of ``size`` steps: start, length, segment, rank."""
        per_seg = -(-self.lens // size)
        b_seg = np.repeat(np.arange(self.count), per_seg)
        b_rank = np.arange(b_seg.size) - np.repeat(np.cumsum(per_seg) - per_seg, per_seg)
        b_start = self.starts[b_seg] + b_rank * size
        b_len = np.minimum(size, self.starts[b_seg] + self.lens[b_seg] - b_start)
        return b_start, b_len, b_seg, b_rank

    def cumsum(self, x: np.ndarray) -> np.ndarray:
        """Running sum restarting at every segment."""
        c = np.cumsum(x)
        return c - self.spread(c[self.starts] - x[self.starts])

    def sums(self, x: np.ndarray) -> np.ndarray:
        """Total of ``x`` over each segment."""
        return np.add.reduceat(x, self.starts) if self.n else np.zeros(self.count)

    def shift(self, x: np.ndarray, first: np.ndarray) -> np.ndarray:
        """``x`` delayed by one step, with ``first`` as the value before each segment."""
        out = np.empty_like(x)
        out[1:] = x[:-1]
        out[self.starts] = first
        return out


def linear_recurrence(a: np.ndarray, c: np.ndarray, seg: Segments, x0: np.ndarray) -> np.ndarray:
    """x[k] = a[k]·x[k-1] + c[k] per segment, from x0; vectorised, for 0 < a <= 1."""
    _, b_len, b_seg, rank = seg.blocks(RECURRENCE_CHUNK)
    sub = Segments(b_len)  # chunks keep the running product of a far from underflow
    # Closed form inside each chunk: x = A·(x_start + Σ c/A) with A the running product of a.
    big_a = np.exp(sub.cumsum(np.log(a)))
    zero_state = big_a * sub.cumsum(c / big_a)
    a_end, z_end = big_a[sub.ends], zero_state[sub.ends]
    x_start = np.asarray(x0, dtype=float)[b_seg].copy()
    # Chunks of one segment follow each other; only this short loop is sequential.
    for r in range(1, int(rank.max(initial=0)) + 1):
        i = np.flatnonzero(rank == r)
        x_start[i] = z_end[i - 1] + a_end[i - 1] * x_start[i - 1]
    return zero_state + big_a * sub.spread(x_start)


def disc_temperature(
    friction_w: np.ndarray,
    speed_mps: np.ndarray,
    seg: Segments,
    ambient_c: np.ndarray,
    disc0_c: np.ndarray,
    heat_capacity_j_per_k: float,
    dt_s: float,
) -> np.ndarray:
    """Disc temperature per step: heated by friction power, cooled toward ambient (exact)."""
    scale = heat_capacity_j_per_k / DISC_FRONT_J_PER_K
    h = scale * (DISC_COOL_W_PER_K_FRONT[0] + DISC_COOL_W_PER_K_FRONT[1] * speed_mps)
    a = np.exp(-h * dt_s / heat_capacity_j_per_k)
    # Work in the rise above ambient so every term is non-negative (no cancellation).
    rise = linear_recurrence(a, (1.0 - a) * friction_w / h, seg, disc0_c - ambient_c)
    return rise + seg.spread(ambient_c)


def pad_wear_factor(disc_c: np.ndarray) -> np.ndarray:
    """Multiplier of the Archard coefficient at this disc temperature (1 below ~300 °C)."""
    over = np.maximum(disc_c - DISC_WEAR_ONSET_C, 0.0) / DISC_WEAR_DOUBLING_K
    return np.minimum(np.exp2(over), DISC_WEAR_MAX_FACTOR)


def parked_disc_c(disc_c: float, ambient_c: float, duration_s: float, front: bool) -> float:
    """Disc temperature after standing ``duration_s`` with the car parked."""
    cap = DISC_FRONT_J_PER_K if front else DISC_REAR_J_PER_K
    h = DISC_COOL_W_PER_K_FRONT[0] * cap / DISC_FRONT_J_PER_K
    return parked_temperature(disc_c, ambient_c, duration_s, cap / h)


def windowed_any(flags: np.ndarray, seg: Segments, window: int) -> np.ndarray:
    """True where any of the last ``window`` steps of the same segment was True."""
    c = np.concatenate(([0], np.cumsum(flags, dtype=np.int64)))
    idx = np.arange(seg.n)
    lo = np.maximum(idx - window + 1, seg.spread(seg.starts))
    return (c[idx + 1] - c[lo]) > 0


def road_force_n(
    speed_mps: np.ndarray,
    mass_kg: float | np.ndarray,
    crr: float | np.ndarray,
    cda_m2: float | np.ndarray,
) -> np.ndarray:
    """Rolling resistance plus aerodynamic drag at the given speeds."""
    rolling = np.where(speed_mps > 0.05, mass_kg * G_MPS2 * crr, 0.0)
    return rolling + 0.5 * AIR_DENSITY_KGM3 * cda_m2 * speed_mps**2


def gear_and_rpm(
    speed_mps: np.ndarray,
    accel_mps2: np.ndarray,
    ratios: np.ndarray,
    final_drive: float | np.ndarray,
    tyre_radius_m: float | np.ndarray,
    upshift_rpm: float | np.ndarray,
    idle_rpm: float | np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Gear index (the highest keeping rpm above the upshift point) and engine rpm per step."""
    shaft_rpm = speed_mps * (60.0 / (2.0 * math.pi)) / tyre_radius_m * final_drive
    # Accelerating drivers hold gears longer; this is what makes aggressive
    # driving spin the engine (and wear the oil) more per km.
    threshold = upshift_rpm * (1.0 + 0.35 * np.clip(accel_mps2, 0.0, 2.0))
    # Gear g qualifies when its ratio >= threshold / shaft rpm; ratios fall with the gear,
    # so the qualifying gears are a prefix and a binary search finds its end. First gear
    # when none qualifies (pulling away).
    needed = threshold / np.maximum(shaft_rpm, 1e-9)
    count = ratios.size - np.searchsorted(ratios[::-1], needed, side="left")
    gear = np.maximum(count - 1, 0)
    rpm = np.maximum(shaft_rpm * ratios[gear], idle_rpm)
    return gear, rpm


def max_torque_nm(
    rpm: np.ndarray, peak_torque_nm: float | np.ndarray, idle_rpm: float | np.ndarray
) -> np.ndarray:
    """Full-load torque curve: rises from 70 % at idle to the peak around 3000 rpm."""
    x = np.clip((rpm - idle_rpm) / (3000.0 - idle_rpm), 0.0, 1.0)
    fall = np.clip((rpm - 4500.0) / 2500.0, 0.0, 0.3)
    return peak_torque_nm * (0.7 + 0.3 * x - fall)


def integrate_thermal(
    heat_w: np.ndarray,
    load_pct: np.ndarray,
    seg: Segments,
    ambient_c: np.ndarray,
    coolant0_c: np.ndarray,
    oil0_c: np.ndarray,
    dt_s: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Coolant and oil temperature per step of every segment (coarse explicit Euler)."""
    # All segments advance in lockstep, one THERMAL_STEP_S block per iteration, so the only
    # sequential loop runs once per block however many vehicles are in the batch.
    size = max(1, round(THERMAL_STEP_S / dt_s))
    b_start, b_len, b_seg, b_rank = seg.blocks(size)
    heat_b = np.add.reduceat(heat_w, b_start) / b_len
    load_b = np.add.reduceat(load_pct, b_start) / b_len
    n_ranks = int(b_rank.max()) + 1
    grid = np.zeros((3, n_ranks, seg.count))
    grid[:, b_rank, b_seg] = heat_b, load_b, b_len * dt_s
    # One segment needs no arrays at all: plain floats are ~10x faster per block.
    if seg.count == 1:
        rows: list = grid[:, :, 0].tolist()
        amb: object = float(ambient_c[0])
        cool: object = float(coolant0_c[0])
        oil: object = float(oil0_c[0])
    else:
        rows = list(grid)
        amb, cool, oil = ambient_c, coolant0_c.astype(float), oil0_c.astype(float)
    heats, loads, steps = rows
    out_c, out_o = [], []
    c_j = ENGINE_HEAT_CAPACITY_J_PER_K
    for h_w, load, h_s in zip(heats, loads, steps, strict=True):
        above = cool - THERMOSTAT_C  # type: ignore[operator]
        q = COOLANT_HEAT_SHARE * h_w - ENGINE_LOSS_W_PER_K * (cool - amb)  # type: ignore[operator]
        q = q - RADIATOR_W_PER_K * 0.5 * (above + abs(above))  # radiator opens above 90 °C
        cool = cool + h_s * q / c_j
        oil = oil + h_s / OIL_TAU_S * (cool + OIL_LOAD_RISE_C_PER_PCT * load - oil)
        out_c.append(cool)
        out_o.append(oil)
    cool_b = np.asarray(out_c, dtype=float).reshape(n_ranks, -1)[b_rank, b_seg]
    oil_b = np.asarray(out_o, dtype=float).reshape(n_ranks, -1)[b_rank, b_seg]
    return (
        _blend_blocks(cool_b, coolant0_c, b_len, b_rank, b_seg, seg.n),
        _blend_blocks(oil_b, oil0_c, b_len, b_rank, b_seg, seg.n),
    )


def _blend_blocks(
    end_values: np.ndarray,
    initial: np.ndarray,
    b_len: np.ndarray,
    b_rank: np.ndarray,
    b_seg: np.ndarray,
    n: int,
) -> np.ndarray:
    """Per-step values: a block's result belongs to its last step, earlier steps blend in."""
    prev = np.empty_like(end_values)
    prev[1:] = end_values[:-1]
    first = b_rank == 0
    prev[first] = np.asarray(initial, dtype=float)[b_seg[first]]
    block_of = np.repeat(np.arange(b_len.size), b_len)
    pos = np.arange(n) - np.repeat(np.cumsum(b_len) - b_len, b_len)
    frac = (pos + 1.0) / b_len[block_of]
    return prev[block_of] + (end_values - prev)[block_of] * frac


def parked_temperature(temp_c: float, ambient_c: float, duration_s: float, tau_s: float) -> float:
    """Newton cooling toward ambient over a parked interval (exact exponential)."""
    return ambient_c + (temp_c - ambient_c) * math.exp(-max(duration_s, 0.0) / tau_s)


def oil_wear_factor(oil_temp_c: np.ndarray) -> np.ndarray:
    """Relative oil degradation per revolution: 1 when warm, up to 3 cold, rising when hot."""
    cold = 2.0 * np.clip((75.0 - oil_temp_c) / 55.0, 0.0, 1.0)
    hot = np.clip((oil_temp_c - 115.0) / 15.0, 0.0, None) ** 2
    return 1.0 + cold + hot
