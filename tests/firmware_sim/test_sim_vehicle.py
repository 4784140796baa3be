# SPDX-License-Identifier: MIT
"""Vehicle types, battery voltage, the ECU snapshot and the real-time wrapper."""

import numpy as np
import pytest

from firmware_sim import cycles
from firmware_sim.realtime import RealtimeVehicle
from firmware_sim.vehicle import Vehicle, VehicleSpec
from firmware_sim.vehicle_data import ELECTRIC_SIGNALS, SIGNALS

VIN = "WLS12345678901234"


def car(kind: str = "petrol", **kw: object) -> Vehicle:
    return Vehicle(VehicleSpec(vin=VIN, kind=kind, **kw), seed=2)  # type: ignore[arg-type]


def test_electric_cars_have_no_engine_signals_and_say_so() -> None:
    ev = car("electric")
    trace = ev.drive(cycles.load_cycle("udds"))
    assert set(trace.signals) == set(ELECTRIC_SIGNALS)
    assert ev.state.engine_rpm == 0.0 and not ev.state.engine_on
    assert ev.snapshot().kind == "electric"
    assert ev.truth.oil_life_pct == 100.0  # no engine oil to wear
    assert ev.state.fuel_level_pct < 70.0  # the battery's charge went down


def test_hybrid_runs_its_engine_intermittently() -> None:
    trace = car("hybrid").drive(np.tile(cycles.load_cycle("udds"), 2))
    on = trace.signals["engine_rpm"] > 0
    assert set(trace.signals) == set(SIGNALS)
    assert 0.2 < on.mean() < 0.8
    assert np.count_nonzero(np.diff(on.astype(int)) == 1) >= 5  # it restarts many times
    assert (trace.signals["fuel_level_pct"][~on][1:] <= trace.signals["fuel_level_pct"][0]).all()


def test_regeneration_lowers_friction_braking() -> None:
    share = {}
    for kind in ("petrol", "hybrid", "electric"):
        v = car(kind)
        v.drive(cycles.load_cycle("udds"))
        share[kind] = v.truth.total_braking_energy_j / v.truth.total_kinetic_shed_j
        regen = v.truth.total_regen_energy_j
        assert (regen > 0) == (kind != "petrol")
    assert share["hybrid"] < 0.5 * share["petrol"]
    assert share["electric"] < 0.5 * share["petrol"]


def test_battery_voltage_cranking_charging_resting_and_weak() -> None:
    v = car()
    assert v.state.module_voltage_v == pytest.approx(12.4)
    volts = v.drive(cycles.load_cycle("udds")).signals["module_voltage_v"]
    assert 9.5 < volts[0] < 11.0 and abs(np.median(volts[1:]) - 14.2) < 0.1
    v.park(3600)
    assert v.state.module_voltage_v == pytest.approx(12.4)
    weak = car(initial_battery_health_pct=50.0, ambient_c=-10.0)
    assert weak.state.module_voltage_v < 12.0
    assert weak.drive(cycles.load_cycle("udds")).signals["module_voltage_v"][0] < 9.0
    hybrid_volts = car("hybrid").drive(cycles.load_cycle("udds")).signals["module_voltage_v"]
    assert hybrid_volts.min() > 13.5  # no starter motor: no cranking dip


def test_snapshot_carries_the_spec_and_no_truth() -> None:
    spec = VehicleSpec(
        vin=VIN,
        kind="diesel",
        protocol="7",
        has_transmission_ecu=True,
        calibration_id="VW1234567890ABCD",
    )
    snap = Vehicle(spec).snapshot()
    assert (snap.kind, snap.protocol, snap.has_transmission_ecu) == ("diesel", "7", True)
    assert snap.calibration_id == "VW1234567890ABCD" and snap.dropped_pids == frozenset()
    hidden = {"oil_life_pct", "pad_front_mm", "pad_rear_mm", "truth"}
    assert not hidden & set(vars(snap)) and not hidden & set(vars(snap.state))
    with pytest.raises(ValueError):
        VehicleSpec(vin=VIN, protocol="9")
    with pytest.raises(ValueError):
        VehicleSpec(vin=VIN, kind="steam")  # type: ignore[arg-type]


def test_realtime_vehicle_steps_and_serves_snapshots() -> None:
    v = car()
    v.dtcs = ["P0301"]
    rt = RealtimeVehicle(v, cycles.load_cycle("udds"), speedup=1.0)
    with rt.lock:
        v.ignition(True)
        for i in range(300):
            v.step(0.1, rt.target_at(i * 0.1 + 20.0))
    snap = rt.snapshot()
    assert snap.state.engine_on and snap.state.speed_kmh > 0 and snap.dtcs == ("P0301",)
    assert snap.freeze_frame is not None and snap.freeze_frame_dtc == "P0301"
    rt.clear_dtcs()
    assert rt.snapshot().dtcs == () and rt.snapshot().freeze_frame is None
