# SPDX-License-Identifier: MIT
"""A simulated vehicle: what its ECU reports (``state``) and the hidden wear (``truth``).

``Vehicle.drive`` simulates a whole trip with numpy (see ``powertrain``); ``step``
advances by one tick for the real-time dongle; ``park`` cools the engine and brakes down.
The data classes live in ``vehicle_data`` and the hidden wear in ``truth``; both are re-exported
here because the dongle and the rest of the project import them from this module.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from collections.abc import Iterable
from typing import Literal

import numpy as np

from firmware_sim import physics, powertrain, truth
from firmware_sim.faults import DtcMemory, DtcStatus
from firmware_sim.truth import PAD_NEW_MM, GroundTruth, WearTraits
from firmware_sim.vehicle_data import (
    ALTERNATOR_V,
    BATTERY_REST_V,
    CRANKING_V,
    DCDC_V,
    SIGNALS,
    EcuSnapshot,
    Trace,
    VehicleSpec,
    VehicleState,
)

__all__ = [
    "ALTERNATOR_V",
    "BATTERY_REST_V",
    "CRANKING_V",
    "PAD_NEW_MM",
    "SIGNALS",
    "EcuSnapshot",
    "GroundTruth",
    "Trace",
    "Vehicle",
    "VehicleSpec",
    "VehicleState",
]


def rest_voltage_v(battery_health_pct: float) -> float:
    """Open-circuit battery voltage: 12.4 V healthy, ~11.8 V at half health."""
    return BATTERY_REST_V - 0.012 * (100.0 - battery_health_pct)


def cranking_voltage_v(battery_health_pct: float, ambient_c: float) -> float:
    """Lowest voltage while the starter turns: deeper with a weak battery and in the cold."""
    cold = max(0.0, 10.0 - ambient_c) * 0.03
    return CRANKING_V - 0.035 * (100.0 - battery_health_pct) - cold


class Vehicle:
    """One simulated car with physics, a reportable ``state`` and hidden ``truth``."""

    def __init__(self, spec: VehicleSpec, seed: int = 0) -> None:
        self.spec = spec
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.traits = WearTraits.draw(seed)
        amb = spec.ambient_c
        self.state = VehicleState(
            coolant_temp_c=amb,
            oil_temp_c=amb,
            ambient_temp_c=amb,
            odometer_km=spec.initial_odometer_km,
        )
        self.truth = GroundTruth(
            oil_life_pct=spec.initial_oil_life_pct if spec.has_engine else 100.0,
            pad_front_mm=spec.initial_pad_front_mm,
            pad_rear_mm=spec.initial_pad_rear_mm,
            battery_health_pct=spec.initial_battery_health_pct,
            disc_front_c=amb,
            disc_rear_c=amb,
            max_disc_c=amb,
        )
        self.state.module_voltage_v = rest_voltage_v(self.truth.battery_health_pct)
        self.faults = DtcMemory()
        self.faults.set_stored(spec.initial_dtcs, self.state)
        # Set by fleet scheduling: when the car was last switched off (UTC).
        self.parked_at: dt.datetime | None = None
        self.clock_s = 0.0  # simulated seconds since creation: dropouts expire on it
        self._params = powertrain.Params.from_specs([spec])
        self._cold_start = False

    # -- trouble codes ---------------------------------------------------------
    @property
    def dtcs(self) -> list[str]:
        """Stored trouble codes (service 03); assigning replaces them."""
        return self.faults.stored

    @dtcs.setter
    def dtcs(self, codes: Iterable[str]) -> None:
        self.faults.set_stored(codes, self.state)

    def inject_dtc(self, code: str, status: DtcStatus = "stored") -> None:
        """Set a trouble code as pending, stored, or stored and permanent."""
        self.faults.inject(code, status, self.state)

    def drop_pids(self, pids: Iterable[int], duration_s: float) -> None:
        """Let these sensors drop out (NO DATA) for ``duration_s`` of vehicle time."""
        self.faults.drop(pids, self.clock_s + duration_s)

    def snapshot(self) -> EcuSnapshot:
        """A copy of what the dongle may read (never the hidden truth)."""
        f, spec = self.faults, self.spec
        f.capture(self.state)  # codes appended to the list directly get their frame now
        return EcuSnapshot(
            vin=spec.vin,
            state=copy.copy(self.state),
            supports_odometer_pid=spec.supports_odometer_pid,
            dtcs=tuple(f.stored),
            pending_dtcs=tuple(f.pending),
            permanent_dtcs=tuple(f.permanent),
            freeze_frame=copy.copy(f.freeze_frame),
            freeze_frame_dtc=f.freeze_frame_dtc,
            kind=spec.kind,
            protocol=spec.protocol,
            has_transmission_ecu=spec.has_transmission_ecu,
            calibration_id=spec.calibration_id,
            dropped_pids=f.dropped(self.clock_s),
        )

    def clear_dtcs(self) -> None:
        """Service 04: clear stored and pending codes and the freeze frame (not permanent)."""
        self.faults.clear()

    # -- ignition, parking and the workshop -------------------------------------
    def ignition(self, on: bool) -> None:
        """Turn the key: on starts the engine (with a cranking dip), off ends the drive cycle."""
        s, spec, t = self.state, self.spec, self.truth
        if on and not s.ignition_on:
            s.ignition_on = True
            self._cold_start = s.coolant_temp_c < powertrain.HYBRID_COLD_BELOW_C
            if spec.has_engine:
                truth.apply_cold_start(t, s.oil_temp_c, self.traits)
            if spec.kind in ("petrol", "diesel"):
                s.engine_on = True
                s.engine_rpm = spec.idle_rpm
                s.module_voltage_v = cranking_voltage_v(t.battery_health_pct, s.ambient_temp_c)
            else:
                s.module_voltage_v = DCDC_V  # no starter motor: the DC-DC converter takes over
        elif not on and s.ignition_on:
            s.ignition_on = s.engine_on = False
            s.speed_kmh = s.engine_rpm = s.engine_load_pct = s.throttle_pct = 0.0
            s.module_voltage_v = rest_voltage_v(t.battery_health_pct)
            self.faults.end_drive_cycle()

    def park(self, duration_s: float) -> None:
        """Switch off and stand for ``duration_s``: temperatures decay toward ambient."""
        self.ignition(False)
        s, t, amb = self.state, self.truth, self.state.ambient_temp_c
        s.coolant_temp_c = physics.parked_temperature(
            s.coolant_temp_c, amb, duration_s, physics.PARKED_COOLANT_TAU_S
        )
        s.oil_temp_c = physics.parked_temperature(
            s.oil_temp_c, amb, duration_s, physics.PARKED_OIL_TAU_S
        )
        t.disc_front_c = physics.parked_disc_c(t.disc_front_c, amb, duration_s, front=True)
        t.disc_rear_c = physics.parked_disc_c(t.disc_rear_c, amb, duration_s, front=False)
        self.clock_s += max(duration_s, 0.0)

    def set_ambient(self, ambient_c: float) -> None:
        """Change the outside air temperature (weather, season)."""
        self.state.ambient_temp_c = float(ambient_c)

    def refuel(self) -> None:
        """Fill the tank (or charge the battery of an EV)."""
        self.state.fuel_level_pct = 100.0

    def service(
        self,
        *,
        oil_change: bool = False,
        pads: Literal["front", "rear", "both"] | None = None,
        battery: bool = False,
    ) -> None:
        """A workshop visit: resets the hidden truth of what was serviced."""
        truth.service(self.truth, oil_change=oil_change, pads=pads, battery=battery)

    # -- driving ---------------------------------------------------------------
    def step(self, dt_s: float, target_speed_kmh: float) -> None:
        """Advance ``dt_s`` seconds reaching ``target_speed_kmh``."""
        if not self.state.ignition_on:
            self.ignition(True)
        self._advance(np.array([max(float(target_speed_kmh), 0.0)]), float(dt_s))

    def drive(
        self, speeds_kmh: np.ndarray, dt_s: float = 1.0, start: dt.datetime | None = None
    ) -> Trace:
        """Drive a whole trip following ``speeds_kmh`` (one target per step); return its Trace."""
        speeds = np.clip(np.asarray(speeds_kmh, dtype=float), 0.0, None)
        if not self.state.ignition_on:
            self.ignition(True)
        signals = self._advance(speeds, float(dt_s))
        t_s = np.arange(speeds.size) * float(dt_s)
        return Trace(self.spec.vin, start, t_s, signals, dataclasses.replace(self.truth))

    def start_values(self) -> tuple[float, ...]:
        """The powertrain's starting state for a trip beginning now, in ``Start`` field order."""
        s, t = self.state, self.truth
        charge = ALTERNATOR_V if self.spec.kind in ("petrol", "diesel") else DCDC_V
        # The cranking dip set by ignition() shows on the first step, then the charger takes over.
        first_v = s.module_voltage_v if s.module_voltage_v < charge - 1.0 else charge
        return (
            s.speed_kmh,
            s.coolant_temp_c,
            s.oil_temp_c,
            s.fuel_level_pct,
            s.odometer_km,
            s.ambient_temp_c,
            t.disc_front_c,
            t.disc_rear_c,
            first_v,
            charge,
            float(self._cold_start),
        )

    def _advance(self, speeds_kmh: np.ndarray, dt_s: float) -> dict[str, np.ndarray]:
        """Simulate ``speeds_kmh`` as one segment; update state and truth."""
        names = self.spec.signals
        if speeds_kmh.size == 0:
            return {name: np.empty(0) for name in names}
        seg = physics.Segments(np.array([speeds_kmh.size]))
        start = powertrain.Start.stack([self.start_values()])
        res = powertrain.simulate(speeds_kmh.copy(), seg, self._params, start, dt_s, self.rng)
        self.absorb({k: float(v[0]) for k, v in res.sums.items()})
        self.set_state_from({k: float(v[-1]) for k, v in res.signals.items()})
        self.clock_s += speeds_kmh.size * dt_s
        return {name: res.signals[name] for name in names}

    def absorb(self, sums: dict[str, float]) -> None:
        """Add one trip's wear sums (from ``powertrain.simulate``) to the hidden truth."""
        traits = self.traits
        wear = truth.TripWear(
            revolutions=sums["revolutions"],
            oil_weighted_revs=sums["oil_weighted_revs"],
            kinetic_shed_j=sums["kinetic_shed_j"],
            friction_j=sums["friction_j"],
            regen_j=sums["regen_j"],
            pad_front_mm=sums["front_wear_mj"] * traits.pad_front_mm_per_mj,
            pad_rear_mm=sums["rear_wear_mj"] * traits.pad_rear_mm_per_mj,
            disc_front_end_c=sums["disc_front_end_c"],
            disc_rear_end_c=sums["disc_rear_end_c"],
            max_disc_c=sums["max_disc_c"],
        )
        truth.apply_trip(self.truth, wear, traits)
        self._cold_start = False

    def set_state_from(self, last: dict[str, float]) -> None:
        """Copy the last step's signal values into the reportable state."""
        s = self.state
        for name in SIGNALS:
            setattr(s, name, last[name])
        s.engine_on = s.engine_rpm > 0.0
