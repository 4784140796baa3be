# SPDX-License-Identifier: MIT
"""Trouble codes (two-trip logic, freeze frame, service 04), dropouts, the fault schedule."""

import datetime as dt

import numpy as np

from firmware_sim import cycles
from firmware_sim.daily_driving import PROFILES, simulate_day
from firmware_sim.faults import FaultSchedule
from firmware_sim.vehicle import Vehicle, VehicleSpec

VIN = "WLS12345678901234"


def car(**kw: object) -> Vehicle:
    return Vehicle(VehicleSpec(vin=VIN, **kw), seed=4)  # type: ignore[arg-type]


def test_two_trip_logic_freeze_frame_and_service_04() -> None:
    v = car()
    v.drive(cycles.load_cycle("udds")[:600])
    v.faults.occur("P0301", v.state)
    snap = v.snapshot()
    assert snap.pending_dtcs == ("P0301",) and snap.dtcs == () and snap.freeze_frame is None
    v.ignition(False)
    v.drive(cycles.load_cycle("us06")[:200])
    speed_when_set = v.state.speed_kmh
    v.faults.occur("P0301", v.state)
    snap = v.snapshot()
    assert snap.dtcs == ("P0301",) and snap.permanent_dtcs == ("P0301",)
    assert snap.pending_dtcs == ()
    assert snap.freeze_frame_dtc == "P0301"
    assert snap.freeze_frame is not None and snap.freeze_frame.speed_kmh == speed_when_set
    v.ignition(False)  # the cycle that confirmed the code is not a clean one
    v.clear_dtcs()
    snap = v.snapshot()
    assert snap.dtcs == () and snap.freeze_frame is None and snap.permanent_dtcs == ("P0301",)
    for _ in range(3):  # three clean drive cycles retire the permanent code
        v.ignition(True)
        v.ignition(False)
    assert v.snapshot().permanent_dtcs == ()


def test_pending_code_goes_away_after_a_clean_cycle_and_injection() -> None:
    v = car()
    v.ignition(True)
    v.faults.occur("P0420", v.state)
    v.ignition(False)
    v.ignition(True)
    v.ignition(False)
    assert v.snapshot().pending_dtcs == ()
    v.inject_dtc("P0171", "pending")
    v.inject_dtc("C0035", "stored")
    v.inject_dtc("P0128", "permanent")
    snap = v.snapshot()
    assert snap.pending_dtcs == ("P0171",) and snap.dtcs == ("C0035", "P0128")
    assert snap.permanent_dtcs == ("P0128",) and snap.freeze_frame_dtc == "C0035"


def test_settable_dtcs_capture_a_freeze_frame() -> None:
    v = car()
    v.drive(cycles.load_cycle("udds")[:300])
    v.dtcs = ["p0300"]
    assert v.dtcs == ["P0300"]
    assert v.snapshot().freeze_frame is not None


def test_sensor_dropouts_expire_on_the_vehicle_clock() -> None:
    v = car()
    v.drop_pids([0x5C, 0x0C], duration_s=100)
    assert v.snapshot().dropped_pids == frozenset({0x5C, 0x0C})
    v.drive(np.zeros(60))
    assert 0x5C in v.snapshot().dropped_pids
    v.park(60)
    assert v.snapshot().dropped_pids == frozenset()


def test_schedule_misfire_on_an_aggressive_profile_and_low_battery() -> None:
    schedule = FaultSchedule(dropout_probability=0.0)
    rng = np.random.default_rng(1)
    prone = car(latent_faults=("misfire",))
    healthy = car()
    for d in range(6):
        day = dt.date(2024, 6, 3) + dt.timedelta(days=d)
        simulate_day(prone, PROFILES["aggressive"], day, rng, schedule)
        simulate_day(healthy, PROFILES["aggressive"], day, rng, schedule)
    assert "P0301" in prone.dtcs and "P0301" in prone.snapshot().permanent_dtcs
    assert prone.snapshot().freeze_frame is not None
    assert prone.snapshot().freeze_frame.engine_load_pct > 75.0  # type: ignore[union-attr]
    assert healthy.dtcs == []
    weak = car(latent_faults=("weak_battery",), initial_battery_health_pct=52.0, ambient_c=0.0)
    for d in range(3):
        simulate_day(weak, PROFILES["commuter"], dt.date(2024, 1, 8) + dt.timedelta(d), rng)
    assert "P0562" in weak.dtcs and weak.truth.battery_health_pct < 52.0
