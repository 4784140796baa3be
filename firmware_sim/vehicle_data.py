# SPDX-License-Identifier: MIT
"""The vehicle's data: its static spec, what its ECUs can report, snapshots and trip traces."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from firmware_sim.truth import PAD_NEW_MM, GroundTruth

Kind = Literal["petrol", "diesel", "hybrid", "electric"]
KINDS: tuple[Kind, ...] = ("petrol", "diesel", "hybrid", "electric")
PROTOCOLS = ("6", "7", "3")

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
# A battery-electric car has no engine, coolant loop of that kind, oil or fuel tank to report.
ELECTRIC_SIGNALS = ("speed_kmh", "ambient_temp_c", "odometer_km", "module_voltage_v")

BATTERY_REST_V = 12.4
ALTERNATOR_V = 14.2
# Hybrids and EVs keep the 12 V net up through a DC-DC converter, a little below an alternator.
DCDC_V = 14.0
CRANKING_V = 10.3
# Peak regenerative braking power at the wheels: zero for cars without a traction motor.
REGEN_MAX_W: dict[str, float] = {"petrol": 0.0, "diesel": 0.0, "hybrid": 25e3, "electric": 60e3}


@dataclass(frozen=True)
class VehicleSpec:
    """Static description of a vehicle; defaults describe a petrol compact car in Chicago."""

    vin: str
    kind: Kind = "petrol"
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
    traction_battery_kwh: float = 60.0  # electric only; the fuel level then reads charge
    supports_odometer_pid: bool = True
    initial_odometer_km: float = 20_000.0
    initial_oil_life_pct: float = 100.0
    initial_pad_front_mm: float = PAD_NEW_MM
    initial_pad_rear_mm: float = PAD_NEW_MM
    initial_battery_health_pct: float = 100.0
    ambient_c: float = 15.0  # annual mean at home
    ambient_swing_c: float = 9.0  # seasonal half-range at home
    initial_dtcs: tuple[str, ...] = ()
    make: str = "Wrenchlight"
    model: str = "Sim Compact"
    model_year: int = 2021
    protocol: str = "6"  # ELM protocol number of the car's bus
    has_transmission_ecu: bool = False
    calibration_id: str = "WLSIM00000000001"
    home_city: str = "Chicago"
    home_lat: float = 41.8781
    home_lon: float = -87.6298
    # Hidden predispositions the fault schedule acts on, e.g. ("misfire", "weak_battery").
    latent_faults: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.vin) != 17:
            raise ValueError(f"VIN must have 17 characters, got {len(self.vin)}")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}")
        if len(self.calibration_id) > 16 or not self.calibration_id.isascii():
            raise ValueError("calibration_id must be at most 16 ASCII characters")

    @property
    def has_engine(self) -> bool:
        """Whether there is a combustion engine (and so rpm, oil and coolant)."""
        return self.kind != "electric"

    @property
    def regen_max_w(self) -> float:
        """Peak regenerative braking power."""
        return REGEN_MAX_W[self.kind]

    @property
    def signals(self) -> tuple[str, ...]:
        """Names of the signals this vehicle's traces carry."""
        return SIGNALS if self.has_engine else ELECTRIC_SIGNALS


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
    """One trip: time in seconds from ``start`` and one array per signal the vehicle has."""

    vin: str
    start: dt.datetime | None
    t_s: np.ndarray
    signals: dict[str, np.ndarray]
    truth: GroundTruth = field(repr=False, default_factory=lambda: GroundTruth(0, 0, 0))

    def __len__(self) -> int:
        return int(self.t_s.size)

    @property
    def sample_count(self) -> int:
        """Signal values in the trace (steps × signals)."""
        return len(self) * len(self.signals)
