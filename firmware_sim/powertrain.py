# SPDX-License-Identifier: MIT
"""The physics core shared by one car (``Vehicle.drive``) and a whole fleet (``fleet_arrays``).

Input is any number of trips laid end to end (``physics.Segments``), each with its own
vehicle parameters and starting state; output is every signal per step plus each trip's
wear sums. One call simulates one trip of one car or one trip of each of 10,000 cars.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from firmware_sim import physics
from firmware_sim.vehicle_data import KINDS, SIGNALS, VehicleSpec

DRIVETRAIN_EFFICIENCY = 0.9
ENGINE_EFFICIENCY = 0.38
ACCESSORY_W = 600.0
FRONT_BRAKE_SHARE = 0.7
# Regeneration fades out between these speeds (the motor's torque drops off near standstill
# and the friction brakes make the final stop), and blending caps it at a deceleration of
# ~0.12 g, so hard stops are mostly friction even in an EV.
REGEN_FADE_MPS = (2.0, 8.0)
REGEN_MAX_DECEL_MPS2 = 1.2
# Battery round trip (motor, inverter, cells) of recovered energy for an EV.
REGEN_EFFICIENCY = 0.85
# A full hybrid drives electrically below ~12 kW and ~55 km/h, starts the engine beyond
# that, keeps it running at least MIN_ON_S, and runs it after a cold start to light off
# the catalyst. While running it also charges the battery.
HYBRID_EV_MAX_W = 12_000.0
HYBRID_EV_MAX_MPS = 55.0 / 3.6
HYBRID_MIN_ON_S = 15.0
HYBRID_WARMUP_S = 90.0
HYBRID_CHARGE_W = 4_000.0
HYBRID_COLD_BELOW_C = 40.0
# Engine load above which misfire-prone ignition parts break down (see faults.py).
HIGH_LOAD_PCT = 75.0
KIND_CODE = {k: i for i, k in enumerate(KINDS)}
FUEL_MJ_PER_L = {"petrol": physics.PETROL_MJ_PER_L, "diesel": physics.DIESEL_MJ_PER_L}


@dataclass
class Params:
    """Vehicle parameters as arrays, one entry per vehicle (or per trip)."""

    kind: np.ndarray
    mass_kg: np.ndarray
    crr: np.ndarray
    cda_m2: np.ndarray
    final_drive: np.ndarray
    tyre_radius_m: np.ndarray
    idle_rpm: np.ndarray
    upshift_rpm: np.ndarray
    peak_torque_nm: np.ndarray
    tank_l: np.ndarray
    battery_kwh: np.ndarray
    regen_max_w: np.ndarray
    fuel_mj_per_l: np.ndarray
    idle_fuel_w: np.ndarray  # friction and pumping losses at idle, as fuel power
    closed_throttle_pct: np.ndarray
    ratios: np.ndarray  # (n, gears)

    @classmethod
    def from_specs(cls, specs: list[VehicleSpec]) -> Params:
        """Stack the specs' parameters."""
        diesel = [s.kind == "diesel" for s in specs]

        def col(values: list[Any]) -> np.ndarray:
            return np.asarray(values, dtype=float)

        return cls(
            kind=np.asarray([KIND_CODE[s.kind] for s in specs], dtype=np.int8),
            mass_kg=col([s.mass_kg for s in specs]),
            crr=col([s.crr for s in specs]),
            cda_m2=col([s.cda_m2 for s in specs]),
            final_drive=col([s.final_drive for s in specs]),
            tyre_radius_m=col([s.tyre_radius_m for s in specs]),
            idle_rpm=col([s.idle_rpm for s in specs]),
            upshift_rpm=col([s.upshift_rpm for s in specs]),
            peak_torque_nm=col([s.peak_torque_nm for s in specs]),
            tank_l=col([s.tank_l for s in specs]),
            battery_kwh=col([s.traction_battery_kwh for s in specs]),
            regen_max_w=col([s.regen_max_w for s in specs]),
            fuel_mj_per_l=col([FUEL_MJ_PER_L.get(s.kind, physics.PETROL_MJ_PER_L) for s in specs]),
            idle_fuel_w=col([4_500.0 if d else 6_000.0 for d in diesel]),
            closed_throttle_pct=col([0.0 if d else 14.0 for d in diesel]),
            ratios=np.asarray([s.gear_ratios for s in specs], dtype=float),
        )

    def take(self, idx: np.ndarray) -> Params:
        """The parameters of the vehicles at ``idx``, in that order."""
        return Params(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})


@dataclass
class Start:
    """Each trip's starting state, one entry per trip."""

    speed_kmh: np.ndarray
    coolant_c: np.ndarray
    oil_c: np.ndarray
    fuel_pct: np.ndarray
    odometer_km: np.ndarray
    ambient_c: np.ndarray
    disc_front_c: np.ndarray
    disc_rear_c: np.ndarray
    first_v: np.ndarray  # voltage at the first step: the cranking dip when the engine starts
    charge_v: np.ndarray  # alternator or DC-DC voltage while running
    cold_start: np.ndarray  # bool: a hybrid then runs its engine to light off the catalyst

    @classmethod
    def stack(cls, rows: list[tuple[float, ...]]) -> Start:
        """One trip per row, values in field order (see ``Vehicle.start_values``)."""
        cols = np.asarray(rows, dtype=float).reshape(len(rows), len(fields(cls))).T
        start = cls(*cols)
        start.cold_start = start.cold_start > 0.5
        return start


@dataclass
class Result:
    """Signals per step (flat, all trips) and per-trip sums."""

    seg: physics.Segments
    signals: dict[str, np.ndarray]
    sums: dict[str, np.ndarray]
    detail: dict[str, np.ndarray]  # per-step internals tests check (braking energy etc.)


def wheel_power_w(
    v_mean: np.ndarray,
    accel: np.ndarray,
    mass: np.ndarray | float,
    crr: np.ndarray | float,
    cda_m2: np.ndarray | float,
    grade_rad: np.ndarray | None = None,
) -> np.ndarray:
    """Power at the wheels per step: inertia plus road load (and climbing, on a grade)."""
    road_n = physics.road_force_n(v_mean, mass, crr, cda_m2)
    if grade_rad is not None:
        road_n = road_n + mass * physics.G_MPS2 * np.sin(grade_rad)
    return (mass * accel + road_n) * v_mean


def braking_split_w(
    wheel_w: np.ndarray,
    v_mean: np.ndarray,
    mass: np.ndarray | float,
    regen_max_w: np.ndarray | float,
) -> tuple[np.ndarray, np.ndarray]:
    """(regeneration, friction) braking power per step from the wheel power."""
    # Braking power beyond what rolling and air resistance absorb, never more than the
    # kinetic energy shed; a traction motor takes its share before the friction brakes.
    brake_w = np.maximum(-wheel_w, 0.0)
    lo, hi = REGEN_FADE_MPS
    fade = np.clip((v_mean - lo) / (hi - lo), 0.0, 1.0)
    regen_cap_w = np.minimum(regen_max_w, mass * REGEN_MAX_DECEL_MPS2 * v_mean)
    regen_w = np.minimum(brake_w, regen_cap_w) * fade
    return regen_w, brake_w - regen_w


def simulate(
    speeds_kmh: np.ndarray,
    seg: physics.Segments,
    p: Params,
    s: Start,
    dt_s: float,
    rng: np.random.Generator,
) -> Result:
    """Drive every trip of the batch; ``p`` and ``s`` hold one entry per trip."""
    n, rep = seg.n, seg.spread
    kind = rep(p.kind)
    mass = rep(p.mass_kg)
    v = speeds_kmh / 3.6
    v_prev = seg.shift(v, s.speed_kmh / 3.6)
    accel = (v - v_prev) / dt_s
    v_mean = 0.5 * (v + v_prev)
    wheel_w = wheel_power_w(v_mean, accel, mass, rep(p.crr), rep(p.cda_m2))
    drive_w = np.maximum(wheel_w, 0.0)
    regen_w, friction_w = braking_split_w(wheel_w, v_mean, mass, rep(p.regen_max_w))
    shed_j = 0.5 * mass * np.maximum(v_prev**2 - v**2, 0.0)

    idle = rep(p.idle_rpm)
    rpm = np.empty(n)
    # One binary search per distinct gearbox (a fleet has a handful).
    boxes, box_of_seg = np.unique(p.ratios, axis=0, return_inverse=True)
    box_of = rep(box_of_seg.reshape(-1)) if boxes.shape[0] > 1 else None
    for b, ratios in enumerate(boxes):
        m = slice(None) if box_of is None else box_of == b
        _, rpm[m] = physics.gear_and_rpm(
            v[m], accel[m], ratios, rep(p.final_drive)[m], rep(p.tyre_radius_m)[m],
            rep(p.upshift_rpm)[m], idle[m],
        )  # fmt: skip
    noise = rng.normal(0.0, 8.0, n)
    rpm += noise
    engine_w = drive_w / DRIVETRAIN_EFFICIENCY + ACCESSORY_W
    # Overrun fuel cut: coasting above ~1100 rpm burns nothing and reads zero load.
    running = ~((wheel_w < 0.0) & (rpm > 1100.0))
    hybrid = kind == KIND_CODE["hybrid"]
    if hybrid.any():
        request = (engine_w > HYBRID_EV_MAX_W) | (v > HYBRID_EV_MAX_MPS)
        request |= rep(s.cold_start) & (seg.pos * dt_s < HYBRID_WARMUP_S)
        on = physics.windowed_any(request, seg, max(1, round(HYBRID_MIN_ON_S / dt_s)))
        # An e-CVT holds the engine near its efficient speed for the power asked of it.
        h_rpm = 1000.0 + 2800.0 * np.clip(engine_w / 60_000.0, 0.0, 1.0) + noise
        rpm = np.where(hybrid, np.where(on, h_rpm, 0.0), rpm)
        engine_w = np.where(hybrid & on, engine_w + HYBRID_CHARGE_W, engine_w)
        running &= ~hybrid | on
    running &= kind != KIND_CODE["electric"]
    rpm = np.where(kind == KIND_CODE["electric"], 0.0, rpm)

    omega = np.maximum(rpm, 1.0) * (2.0 * math.pi / 60.0)
    peak = rep(p.peak_torque_nm)
    t_max = physics.max_torque_nm(rpm, peak, idle)
    load = np.clip((engine_w / omega + 0.12 * peak) / t_max * 100.0, 0.0, 100.0) * running
    closed = rep(p.closed_throttle_pct)
    throttle = (closed + (100.0 - closed) * 0.8 * (load / 100.0)) * (rpm > 0.0)
    fuel_w = (
        rep(p.idle_fuel_w) * (0.5 + 0.5 * rpm / idle) + engine_w / ENGINE_EFFICIENCY
    ) * running

    amb = s.ambient_c
    coolant, oil = physics.integrate_thermal(fuel_w, load, seg, amb, s.coolant_c, s.oil_c, dt_s)
    fuel_l = seg.cumsum(fuel_w) * dt_s / (rep(p.fuel_mj_per_l) * 1e6)
    fuel_pct = rep(s.fuel_pct) - fuel_l / rep(p.tank_l) * 100.0
    electric = kind == KIND_CODE["electric"]
    if electric.any():
        # The fuel level of an EV is its state of charge.
        traction_w = engine_w - REGEN_EFFICIENCY * regen_w
        used_pct = seg.cumsum(traction_w) * dt_s / (rep(p.battery_kwh) * 3.6e4)
        fuel_pct = np.where(electric, rep(s.fuel_pct) - used_pct, fuel_pct)
    fuel_pct = np.clip(fuel_pct, 0.0, 100.0)
    odo = rep(s.odometer_km) + seg.cumsum(v_mean) * (dt_s / 1000.0)
    volts = rep(s.charge_v) + rng.normal(0.0, 0.03, n)
    volts[seg.starts] = s.first_v  # the cranking dip is still visible on the first tick

    front_w, rear_w = FRONT_BRAKE_SHARE * friction_w, (1.0 - FRONT_BRAKE_SHARE) * friction_w
    disc_f = physics.disc_temperature(
        front_w, v_mean, seg, amb, s.disc_front_c, physics.DISC_FRONT_J_PER_K, dt_s
    )
    disc_r = physics.disc_temperature(
        rear_w, v_mean, seg, amb, s.disc_rear_c, physics.DISC_REAR_J_PER_K, dt_s
    )
    revs = rpm * (dt_s / 60.0)
    # Oil ages with revolutions, more so when cold or very hot and when heavily loaded.
    oil_weight = physics.oil_wear_factor(oil) * (0.75 + 0.5 * load / 100.0)
    sums = {
        "revolutions": seg.sums(revs),
        "oil_weighted_revs": seg.sums(revs * oil_weight),
        "kinetic_shed_j": seg.sums(shed_j),
        "friction_j": seg.sums(friction_w) * dt_s,
        "regen_j": seg.sums(regen_w) * dt_s,
        # Archard: thickness loss ∝ friction work, at a rate that rises on hot discs.
        "front_wear_mj": seg.sums(front_w * physics.pad_wear_factor(disc_f)) * dt_s / 1e6,
        "rear_wear_mj": seg.sums(rear_w * physics.pad_wear_factor(disc_r)) * dt_s / 1e6,
        "max_disc_c": np.maximum.reduceat(np.maximum(disc_f, disc_r), seg.starts),
        "high_load_s": seg.sums(load > HIGH_LOAD_PCT) * dt_s,
        "disc_front_end_c": disc_f[seg.ends],
        "disc_rear_end_c": disc_r[seg.ends],
    }
    signals = dict(
        zip(
            SIGNALS,
            (speeds_kmh, rpm, load, throttle, coolant, oil, rep(amb), fuel_pct, odo, volts),
            strict=True,
        )
    )
    detail = {"friction_j": friction_w * dt_s, "shed_j": shed_j, "regen_j": regen_w * dt_s}
    detail.update(disc_front_c=disc_f, disc_rear_c=disc_r)
    return Result(seg, signals, sums, detail)
