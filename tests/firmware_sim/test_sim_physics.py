# SPDX-License-Identifier: MIT
"""Physics sanity: warm-up, cold short trips, odometer, wear, and braking energy vs NREL data."""

import csv
import datetime as dt

import numpy as np
import pytest

from firmware_sim import cycles
from firmware_sim.daily_driving import PROFILES, simulate_day
from firmware_sim.vehicle import SIGNALS, Vehicle, VehicleSpec

VIN = "WLS12345678901234"


def fresh(**kw: object) -> Vehicle:
    return Vehicle(VehicleSpec(vin=VIN, ambient_c=15.0, **kw), seed=1)  # type: ignore[arg-type]


def test_highway_warms_to_thermostat() -> None:
    trace = fresh().drive(np.concatenate([cycles.load_cycle("hwfet")] * 2))
    coolant = trace.signals["coolant_temp_c"]
    assert coolant[0] == pytest.approx(15.0, abs=1.0)
    assert 86.0 <= coolant[-300:].mean() <= 98.0
    assert trace.signals["oil_temp_c"][-1] > 80.0


def test_short_cold_trip_stays_cold() -> None:
    v = fresh()
    trace = v.drive(cycles.load_cycle("wltc_class3_low3")[:240])
    assert trace.signals["coolant_temp_c"].max() < 50.0
    assert trace.signals["oil_temp_c"].max() < 40.0


def test_parking_cools_toward_ambient() -> None:
    v = fresh()
    v.drive(cycles.load_cycle("hwfet"))
    hot = v.state.coolant_temp_c
    v.park(600)
    assert 15.0 < v.state.coolant_temp_c < hot
    v.park(24 * 3600)
    assert v.state.coolant_temp_c == pytest.approx(15.0, abs=0.5)
    assert v.state.module_voltage_v == pytest.approx(12.4) and not v.state.engine_on


def test_trace_shape_voltage_and_odometer() -> None:
    v = fresh(initial_odometer_km=1000.0)
    speeds = cycles.load_cycle("udds")
    trace = v.drive(speeds)
    assert set(trace.signals) == set(SIGNALS)
    assert all(a.shape == trace.t_s.shape for a in trace.signals.values())
    volts = trace.signals["module_voltage_v"]
    assert volts[0] < 11.0 and abs(np.median(volts) - 14.2) < 0.1  # cranking dip, then charging
    driven_km = trace.signals["odometer_km"][-1] - 1000.0
    assert driven_km == pytest.approx(speeds.sum() / 3600.0, rel=0.01)
    assert trace.signals["fuel_level_pct"][-1] < trace.signals["fuel_level_pct"][0]
    assert (trace.signals["engine_rpm"] >= 700).all()


def test_oil_life_decreases_and_ends_in_range() -> None:
    v = fresh(initial_odometer_km=0.0)
    rng = np.random.default_rng(5)
    before = v.truth.oil_life_pct
    for d in range(60):
        simulate_day(v, PROFILES["commuter"], dt.date(2024, 3, 1) + dt.timedelta(d), rng)
    used_pct, km = before - v.truth.oil_life_pct, v.state.odometer_km
    assert used_pct > 0
    life_km = km * 100.0 / used_pct
    assert 9_000 < life_km < 17_000
    pad_life_km = km * 9.0 / (12.0 - v.truth.pad_front_mm)
    assert 35_000 < pad_life_km < 70_000


def pad_mm_per_km(profile: str) -> float:
    v = fresh(initial_odometer_km=0.0)
    rng = np.random.default_rng(7)
    for d in range(14):
        simulate_day(v, PROFILES[profile], dt.date(2024, 5, 6) + dt.timedelta(d), rng)
    return (12.0 - v.truth.pad_front_mm) / v.state.odometer_km


def test_pads_wear_faster_in_town_and_aggressive_than_on_highway() -> None:
    highway = pad_mm_per_km("highway")
    assert pad_mm_per_km("urban_delivery") > 1.5 * highway
    assert pad_mm_per_km("aggressive") > 1.5 * highway


def _nrel_regen_by_start() -> dict[dt.datetime, float]:
    path = cycles.CMAP_DIR / "4033363_3" / "trips.csv"
    with path.open(newline="") as fh:
        return {
            dt.datetime.fromisoformat(r["start_ts"]): float(r["total_kinetic_power_density_regen"])
            for r in csv.DictReader(fh)
        }


def test_braking_energy_matches_nrel_kinetic_regen() -> None:
    # NREL's total_kinetic_power_density_regen is the kinetic energy per kg shed while
    # slowing down (sum of negative ½Δv², J/kg): an upper bound of friction braking.
    reference = _nrel_regen_by_start()
    checked = 0
    for trip in cycles.real_trip_records():
        match = [e for s, e in reference.items() if abs((s - trip.start).total_seconds()) < 30]
        assert len(match) == 1, trip.start
        v = fresh()
        v.drive(trip.speeds_kmh)
        shed_j_per_kg = v.truth.total_kinetic_shed_j / v.spec.mass_kg
        assert shed_j_per_kg == pytest.approx(-match[0], rel=0.02)
        friction_share = v.truth.total_braking_energy_j / v.truth.total_kinetic_shed_j
        assert 0.3 < friction_share < 0.95
        checked += 1
    assert checked == 13


def test_udds_distance_within_one_percent_of_regulation() -> None:
    # EPA: the UDDS is 7.45 mi = 11.99 km; the odometer integrates the simulated speed.
    v = fresh(initial_odometer_km=0.0)
    v.drive(cycles.load_cycle("udds"))
    assert v.state.odometer_km == pytest.approx(11.99, rel=0.01)


def test_warm_up_time_plausible_and_cold_weather_slower() -> None:
    def minutes_to_70c(ambient_c: float) -> float:
        v = Vehicle(VehicleSpec(vin=VIN, ambient_c=ambient_c), seed=1)
        coolant = v.drive(np.tile(cycles.load_cycle("udds"), 2)).signals["coolant_temp_c"]
        return float(np.argmax(coolant >= 70.0)) / 60.0

    mild, cold = minutes_to_70c(15.0), minutes_to_70c(-10.0)
    # Published warm-up times of compact petrol cars in town: ~5-15 minutes.
    assert 4.0 < mild < 15.0
    assert cold > mild * 1.2


def test_short_trips_in_the_cold_never_warm_up() -> None:
    v = Vehicle(VehicleSpec(vin=VIN, ambient_c=-5.0), seed=1)
    hop = cycles.load_cycle("wltc_class3_low3")[:300]
    for _ in range(4):  # four five-minute hops with half an hour parked between
        trace = v.drive(hop)
        v.park(1800)
        assert trace.signals["coolant_temp_c"].max() < 60.0
        assert trace.signals["oil_temp_c"].max() < 40.0


@pytest.mark.parametrize("kind", ["petrol", "diesel", "hybrid", "electric"])
def test_friction_braking_never_exceeds_kinetic_energy_shed(kind: str) -> None:
    from firmware_sim import physics, powertrain

    rng = np.random.default_rng(11)
    # Random speed traces with brutal accelerations and stops, plus real cycles.
    traces = [np.clip(np.cumsum(rng.normal(0, 6, 900)), 0, 160) for _ in range(5)]
    traces += [cycles.load_cycle("us06"), cycles.load_cycle("udds")]
    for speeds in traces:
        v = Vehicle(VehicleSpec(vin=VIN, kind=kind), seed=3)  # type: ignore[arg-type]
        seg = physics.Segments(np.array([speeds.size]))
        start = powertrain.Start.stack([v.start_values()])
        res = powertrain.simulate(speeds, seg, v._params, start, 1.0, rng)
        friction, shed = res.detail["friction_j"], res.detail["shed_j"]
        assert (friction >= 0).all() and (friction <= shed + 1e-6).all()
        assert (res.detail["regen_j"] + friction <= shed + 1e-6).all()
        v.drive(speeds)
        assert v.truth.total_braking_energy_j <= v.truth.total_kinetic_shed_j
