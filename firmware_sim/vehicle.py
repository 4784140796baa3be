# SPDX-License-Identifier: MIT
"""A simulated vehicle: what its ECU reports (``state``) and the hidden wear (``truth``).

``Vehicle.drive`` simulates a whole trip with numpy (see ``physics``); ``step``
advances by one tick for the real-time dongle; ``park`` cools the engine down.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from firmware_sim import physics

SIGNALS = (
    "speed_kmh",
    "engine_rpm",
    "engine_load_pct",
    "throttle_pct",
    "coolant_temp_c",
    "oil_temp_c",
    "ambient_temp_c",
    "fuel_level_pct",
    "odometer_km",
    "module_voltage_v",
)

BATTERY_REST_V = 12.4
ALTERNATOR_V = 14.2
CRANKING_V = 10.3
PAD_NEW_MM = 12.0
# Calibrated so mixed driving (see tests) empties the oil in ~12,000 km and takes
# ~9 mm off the front pads in ~50,000 km.
OIL_BUDGET_WEIGHTED_REVS = 40.0e6
PAD_FRONT_MM_PER_MJ = 0.0025
PAD_REAR_MM_PER_MJ = 0.0036
FRONT_BRAKE_SHARE = 0.7
DRIVETRAIN_EFFICIENCY = 0.9
ENGINE_EFFICIENCY = 0.38
ACCESSORY_W = 600.0


@dataclass(frozen=True)
class VehicleSpec:
    """Static description of a vehicle; defaults describe a petrol compact car."""

    vin: str
    kind: Literal["petrol", "diesel"] = "petrol"
    mass_kg: float = 1350.0
    gear_ratios: tuple[float, ...] = (3.6, 2.1, 1.4, 1.05, 0.85, 0.7)
    final_drive: float = 3.9
    tyre_radius_m: float = 0.31
    idle_rpm: float = 750.0
    upshift_rpm: float = 1700.0
    peak_torque_nm: float = 200.0
    crr: float = 0.011
    cda_m2: float = 0.68
    tank_l: float = 50.0
    supports_odometer_pid: bool = True
    initial_odometer_km: float = 20_000.0
    initial_oil_life_pct: float = 100.0
    initial_pad_front_mm: float = PAD_NEW_MM
    initial_pad_rear_mm: float = PAD_NEW_MM
    ambient_c: float = 15.0
    initial_dtcs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.vin) != 17:
            raise ValueError(f"VIN must have 17 characters, got {len(self.vin)}")
        if self.kind not in ("petrol", "diesel"):
            raise ValueError(f"kind must be 'petrol' or 'diesel', got {self.kind!r}")


@dataclass
class VehicleState:
    """What the ECUs can report right now."""

    speed_kmh: float = 0.0
    engine_rpm: float = 0.0
    engine_load_pct: float = 0.0
    throttle_pct: float = 0.0
    coolant_temp_c: float = 15.0
    oil_temp_c: float = 15.0
    ambient_temp_c: float = 15.0
    fuel_level_pct: float = 70.0
    odometer_km: float = 0.0
    module_voltage_v: float = BATTERY_REST_V
    ignition_on: bool = False
    engine_on: bool = False


@dataclass
class GroundTruth:
    """Hidden wear the predictive models must estimate; never sent over OBD."""

    oil_life_pct: float
    pad_front_mm: float
    pad_rear_mm: float
    total_revolutions: float = 0.0
    total_braking_energy_j: float = 0.0
    total_kinetic_shed_j: float = 0.0


@dataclass(frozen=True)
class EcuSnapshot:
    """A consistent copy of everything the dongle may read."""

    vin: str
    state: VehicleState
    supports_odometer_pid: bool
    dtcs: tuple[str, ...]  # stored codes (service 03); the MIL is on when any is present
    pending_dtcs: tuple[str, ...] = ()  # service 07
    permanent_dtcs: tuple[str, ...] = ()  # service 0A
    # Service 02: the state captured when the first stored code was set, and that code.
    freeze_frame: VehicleState | None = None
    freeze_frame_dtc: str | None = None
    kind: str = "petrol"  # petrol | diesel | hybrid | electric (EVs answer few PIDs)
    protocol: str = "6"  # the car's bus: "6" CAN 11/500, "7" CAN 29/500, "3" ISO 9141-2
    has_transmission_ecu: bool = False  # a second ECU (7E9 / 18DAF118 / 0x18) answers
    calibration_id: str = "WLSIM00000000001"  # service 09 PID 04, up to 16 characters
    dropped_pids: frozenset[int] = frozenset()  # sensors currently dropping out → NO DATA


@dataclass
class Trace:
    """One trip: time in seconds from ``start`` and one array per signal in SIGNALS."""

    vin: str
    start: dt.datetime | None
    t_s: np.ndarray
    signals: dict[str, np.ndarray]
    truth: GroundTruth = field(repr=False, default_factory=lambda: GroundTruth(0, 0, 0))

    def __len__(self) -> int:
        return int(self.t_s.size)


class Vehicle:
    """One simulated car with physics, a reportable ``state`` and hidden ``truth``."""

    def __init__(self, spec: VehicleSpec, seed: int = 0) -> None:
        self.spec = spec
        self.rng = np.random.default_rng(seed)
        self.state = VehicleState(
            coolant_temp_c=spec.ambient_c,
            oil_temp_c=spec.ambient_c,
            ambient_temp_c=spec.ambient_c,
            odometer_km=spec.initial_odometer_km,
        )
        self.truth = GroundTruth(
            oil_life_pct=spec.initial_oil_life_pct,
            pad_front_mm=spec.initial_pad_front_mm,
            pad_rear_mm=spec.initial_pad_rear_mm,
        )
        self.dtcs: list[str] = list(spec.initial_dtcs)
        # Set by fleet scheduling: when the car was last switched off (UTC).
        self.parked_at: dt.datetime | None = None
        self._ratios = np.asarray(spec.gear_ratios, dtype=float)
        self._fuel_mj_per_l = (
            physics.PETROL_MJ_PER_L if spec.kind == "petrol" else physics.DIESEL_MJ_PER_L
        )
        # Friction and pumping losses at idle, as fuel power (~0.7 L/h petrol).
        self._idle_fuel_w = 6_000.0 if spec.kind == "petrol" else 4_500.0
        self._closed_throttle_pct = 14.0 if spec.kind == "petrol" else 0.0

    # -- ignition and parking ------------------------------------------------
    def ignition(self, on: bool) -> None:
        """Turn the key: on starts the engine (with a cranking voltage dip), off stops it."""
        s = self.state
        if on and not s.engine_on:
            s.ignition_on = s.engine_on = True
            s.engine_rpm = self.spec.idle_rpm
            s.module_voltage_v = CRANKING_V
        elif not on:
            s.ignition_on = s.engine_on = False
            s.speed_kmh = s.engine_rpm = s.engine_load_pct = 0.0
            s.throttle_pct = 0.0
            s.module_voltage_v = BATTERY_REST_V

    def park(self, duration_s: float) -> None:
        """Switch off and stand for ``duration_s``: temperatures decay toward ambient."""
        self.ignition(False)
        s = self.state
        s.coolant_temp_c = physics.parked_temperature(
            s.coolant_temp_c, s.ambient_temp_c, duration_s, physics.PARKED_COOLANT_TAU_S
        )
        s.oil_temp_c = physics.parked_temperature(
            s.oil_temp_c, s.ambient_temp_c, duration_s, physics.PARKED_OIL_TAU_S
        )

    def set_ambient(self, ambient_c: float) -> None:
        """Change the outside air temperature (weather, season)."""
        self.state.ambient_temp_c = float(ambient_c)

    def refuel(self) -> None:
        """Fill the tank."""
        self.state.fuel_level_pct = 100.0

    def snapshot(self) -> EcuSnapshot:
        """A copy of what the dongle may read."""
        return EcuSnapshot(
            self.spec.vin, copy.copy(self.state), self.spec.supports_odometer_pid, tuple(self.dtcs)
        )

    def clear_dtcs(self) -> None:
        """Service 04: forget stored trouble codes."""
        self.dtcs.clear()

    # -- driving ---------------------------------------------------------------
    def step(self, dt_s: float, target_speed_kmh: float) -> None:
        """Advance ``dt_s`` seconds reaching ``target_speed_kmh``."""
        if not self.state.engine_on:
            self.ignition(True)
        self._advance(np.array([max(float(target_speed_kmh), 0.0)]), float(dt_s))

    def drive(
        self, speeds_kmh: np.ndarray, dt_s: float = 1.0, start: dt.datetime | None = None
    ) -> Trace:
        """Drive a whole trip following ``speeds_kmh`` (one target per step); return its Trace."""
        speeds = np.clip(np.asarray(speeds_kmh, dtype=float), 0.0, None)
        if not self.state.engine_on:
            self.ignition(True)
        signals = self._advance(speeds, float(dt_s))
        t_s = np.arange(speeds.size) * float(dt_s)
        return Trace(self.spec.vin, start, t_s, signals, copy.copy(self.truth))

    def _advance(self, speeds_kmh: np.ndarray, dt_s: float) -> dict[str, np.ndarray]:
        """Vectorised core shared by step and drive; updates state and truth."""
        spec, s, n = self.spec, self.state, speeds_kmh.size
        if n == 0:
            return {name: np.empty(0) for name in SIGNALS}
        v = speeds_kmh / 3.6
        v_prev = np.concatenate(([s.speed_kmh / 3.6], v[:-1]))
        accel = (v - v_prev) / dt_s
        v_mean = 0.5 * (v + v_prev)
        dist_m = v_mean * dt_s

        gear = physics.choose_gears(
            v, accel, self._ratios, spec.final_drive, spec.tyre_radius_m, spec.upshift_rpm
        )
        rpm = physics.engine_rpm(
            v, gear, self._ratios, spec.final_drive, spec.tyre_radius_m, spec.idle_rpm
        )
        rpm += self.rng.normal(0.0, 8.0, n)
        road_n = physics.road_force_n(v_mean, spec.mass_kg, spec.crr, spec.cda_m2)
        wheel_w = (spec.mass_kg * accel + road_n) * v_mean
        engine_w = np.maximum(wheel_w, 0.0) / DRIVETRAIN_EFFICIENCY + ACCESSORY_W
        omega = rpm * (2.0 * math.pi / 60.0)
        t_max = physics.max_torque_nm(rpm, spec.peak_torque_nm, spec.idle_rpm)
        friction_nm = 0.12 * spec.peak_torque_nm
        load = np.clip((engine_w / omega + friction_nm) / t_max * 100.0, 0.0, 100.0)
        # Overrun fuel cut: coasting above ~1100 rpm burns nothing and reads zero load.
        overrun = (wheel_w < 0.0) & (rpm > 1100.0)
        load[overrun] = 0.0
        throttle = self._closed_throttle_pct + (100.0 - self._closed_throttle_pct) * 0.8 * (
            load / 100.0
        )
        throttle[overrun] = self._closed_throttle_pct
        fuel_w = (
            self._idle_fuel_w * (0.5 + 0.5 * rpm / spec.idle_rpm) + engine_w / ENGINE_EFFICIENCY
        )
        fuel_w[overrun] = 0.0

        coolant, oil = physics.integrate_thermal(
            fuel_w, load, s.ambient_temp_c, s.coolant_temp_c, s.oil_temp_c, dt_s
        )
        fuel_l = np.cumsum(fuel_w) * dt_s / (self._fuel_mj_per_l * 1e6)
        fuel_pct = np.maximum(s.fuel_level_pct - fuel_l / spec.tank_l * 100.0, 0.0)
        odo = s.odometer_km + np.cumsum(dist_m) / 1000.0
        volts = ALTERNATOR_V + self.rng.normal(0.0, 0.03, n)
        if s.module_voltage_v < BATTERY_REST_V - 1.0:
            volts[0] = s.module_voltage_v  # the cranking dip is still visible this tick

        # Ground truth: wear from revolutions weighted by oil temperature ...
        revs = rpm * dt_s / 60.0
        weighted = float(np.dot(revs, physics.oil_wear_factor(oil)))
        # ... and from the kinetic energy the friction brakes turned into heat.
        shed_j = 0.5 * spec.mass_kg * np.maximum(v_prev**2 - v**2, 0.0)
        brake_j = float(np.maximum(shed_j - road_n * dist_m, 0.0).sum())
        t = self.truth
        t.total_revolutions += float(revs.sum())
        t.total_kinetic_shed_j += float(shed_j.sum())
        t.total_braking_energy_j += brake_j
        t.oil_life_pct = max(t.oil_life_pct - weighted / OIL_BUDGET_WEIGHTED_REVS * 100.0, 0.0)
        t.pad_front_mm = max(
            t.pad_front_mm - FRONT_BRAKE_SHARE * brake_j / 1e6 * PAD_FRONT_MM_PER_MJ, 0.0
        )
        t.pad_rear_mm = max(
            t.pad_rear_mm - (1 - FRONT_BRAKE_SHARE) * brake_j / 1e6 * PAD_REAR_MM_PER_MJ, 0.0
        )

        s.speed_kmh = float(speeds_kmh[-1])
        s.engine_rpm = float(rpm[-1])
        s.engine_load_pct = float(load[-1])
        s.throttle_pct = float(throttle[-1])
        s.coolant_temp_c = float(coolant[-1])
        s.oil_temp_c = float(oil[-1])
        s.fuel_level_pct = float(fuel_pct[-1])
        s.odometer_km = float(odo[-1])
        s.module_voltage_v = float(volts[-1])
        return {
            "speed_kmh": speeds_kmh.copy(),
            "engine_rpm": rpm,
            "engine_load_pct": load,
            "throttle_pct": throttle,
            "coolant_temp_c": coolant,
            "oil_temp_c": oil,
            "ambient_temp_c": np.full(n, s.ambient_temp_c),
            "fuel_level_pct": fuel_pct,
            "odometer_km": odo,
            "module_voltage_v": volts,
        }
