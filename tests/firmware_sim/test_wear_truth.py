# SPDX-License-Identifier: MIT
"""The wear-truth protocol: loading by module:attribute, the README's example, the built-in
truth passed through, and each shipped variant's defining property, seeded."""

import dataclasses
import datetime as dt
import re
from pathlib import Path

import numpy as np
import pytest

from firmware_sim import truth_variants as tv
from firmware_sim.vehicle import Vehicle
from firmware_sim.vehicle_data import VehicleSpec
from firmware_sim.wear_truth import (
    SIMULATOR,
    OilFill,
    TripPhysics,
    TruthSpecError,
    WearTruth,
    load_truth,
)

README = Path(__file__).resolve().parents[2] / "firmware_sim" / "README.md"


def _trip(seed=1, index=0, *, oil_c=95.0, minutes=20, day=1.0, mass_kg=1400.0, ambient=15.0):
    """A stop-and-go trip: 30 s up to 50 km/h, 30 s cruise, 15 s braking, repeated."""
    cycle = np.concatenate([np.linspace(0, 50, 30), np.full(30, 50.0), np.linspace(50, 0, 15)])
    speed = np.tile(cycle, max(1, minutes * 60 // cycle.size))
    n = speed.size
    oil = np.asarray(oil_c, dtype=float) * np.ones(n) if np.ndim(oil_c) == 0 else oil_c
    return TripPhysics(
        vin="WLTEST00000000001",
        kind="petrol",
        vehicle_seed=seed,
        trip_index=index,
        start=dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC),
        day=day,
        mass_kg=mass_kg,
        crr=0.011,
        cda_m2=0.68,
        regen_max_w=0.0,
        t_s=np.arange(n, dtype=float),
        speed_kmh=speed,
        engine_rpm=np.where(speed > 0, 1000.0 + 40.0 * speed, 800.0),
        engine_load_pct=np.full(n, 30.0),
        oil_temp_c=oil,
        coolant_temp_c=np.full(n, 90.0),
        ambient_c=np.full(n, ambient),
        reference_oil_pct=0.5,
        reference_pad_mm=(0.01, 0.005),
    )


def _fill(truth, *, seed=1, number=0, trips=100, dose=1.0, start_day=0.0, channels=()):
    oil = np.column_stack([np.full(trips, dose), *[np.full(trips, c) for c in channels]])
    return truth.oil_consumed_pct(
        OilFill(
            vehicle_seed=seed,
            number=number,
            start_day=start_day,
            day=start_day + np.arange(1.0, trips + 1),
            km=np.full(trips, 40.0),
            oil=oil,
        )
    )


def test_the_simulator_truth_passes_the_built_in_wear_through():
    dose = SIMULATOR.trip(_trip())
    assert dose.oil == (0.5,) and (dose.pad_front_mm, dose.pad_rear_mm) == (0.01, 0.005)
    assert _fill(SIMULATOR, trips=4) == pytest.approx([1.0, 2.0, 3.0, 4.0])


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("truth_variants", "expected module:attribute"),
        (":ACCELERATING_OIL", "expected module:attribute"),
        ("no_such_module_wl:X", "cannot import 'no_such_module_wl'"),
        ("firmware_sim.truth_variants:NOPE", "has no attribute 'NOPE'"),
        ("firmware_sim.truth:PAD_NEW_MM", "not a wear truth"),
        ("firmware_sim.wear_truth:OilFill", "built with no arguments"),
    ],
)
def test_a_bad_truth_spec_is_a_typed_error_saying_what_is_wrong(spec, says):
    with pytest.raises(TruthSpecError, match=re.escape(says)):
        load_truth(spec)
    assert issubclass(TruthSpecError, ValueError)


def test_instances_and_classes_load_from_the_python_path():
    assert load_truth("firmware_sim.truth_variants:ACCELERATING_OIL") is tv.ACCELERATING_OIL
    built = load_truth("firmware_sim.truth_variants:FuelDilution")
    assert isinstance(built, tv.FuelDilution) and isinstance(built, WearTruth)
    assert load_truth("firmware_sim.wear_truth:SIMULATOR") is SIMULATOR


def readme_example() -> str:
    """The complete variant in firmware_sim/README.md."""
    text = README.read_text()
    block = re.search(r"<!-- truth-example -->\n```python\n(.*?)```", text, re.S)
    assert block, "firmware_sim/README.md lost its truth example"
    return block.group(1)


def test_the_readme_example_is_short_and_plugs_in_from_any_path(tmp_path, monkeypatch):
    code = readme_example()
    assert len(code.splitlines()) < 60
    (tmp_path / "readme_truth_wl.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    truth = load_truth("readme_truth_wl:HotOil")
    assert isinstance(truth, WearTruth)
    hot, cool = truth.trip(_trip(oil_c=120.0)), truth.trip(_trip(oil_c=90.0))
    assert hot.oil[0] > 2 * cool.oil[0] > 0.0  # Arrhenius: 3 doublings between them
    assert hot.pad_front_mm > hot.pad_rear_mm > 0.0


def test_trip_friction_is_the_physics_friction():
    spec = VehicleSpec(vin="WLTEST00000000001", mass_kg=1500.0)
    car = Vehicle(spec, seed=3)
    base = _trip()
    car.drive(base.speed_kmh)
    res_friction = car.truth.total_braking_energy_j
    trip = dataclasses.replace(base, mass_kg=1500.0, crr=spec.crr, cda_m2=spec.cda_m2)
    assert float(trip.friction_w().sum()) == pytest.approx(res_friction, rel=1e-9)
    assert float(trip.friction_w(mass_kg=1800.0).sum()) > 1.15 * res_friction


def test_accelerating_oil_wears_faster_as_life_falls():
    consumed = _fill(tv.ACCELERATING_OIL, trips=100, dose=1.0)
    per_trip = np.diff(consumed)
    assert (np.diff(per_trip) > 0).all()  # the same stress costs more life later
    assert consumed[-1] == pytest.approx(100.0)  # ends where a linear oil would
    assert consumed[49] < 0.4 * 100.0  # far less than half used at half the stress


def test_brands_differ_between_fills_and_the_engine_drifts():
    truth = tv.BrandsAndDrift()
    first, second = (_fill(truth, number=k)[-1] for k in (0, 1))
    assert first != pytest.approx(second, rel=0.01)
    assert _fill(truth, number=1)[-1] == second  # the same fill is the same oil
    factors = [truth.drift(7, day) for day in (0.0, 90.0, 91.0, 400.0, 800.0)]
    assert factors[0] == factors[1] != factors[2]  # a step every 91 days
    assert len({round(f, 9) for f in factors}) == 4
    young, old = (truth.trip(_trip(seed=7, day=d)).oil[0] for d in (1.0, 800.0))
    assert young / old == pytest.approx(truth.drift(7, 1.0) / truth.drift(7, 800.0))


def test_mass_and_split_differ_per_vehicle_and_from_the_simulators():
    truth = tv.MASS_AND_SPLIT
    hidden = [truth.hidden(seed) for seed in range(40)]
    shares, masses = zip(*hidden, strict=True)
    assert 0.6 <= min(shares) < 0.65 and 0.75 < max(shares) <= 0.8
    assert 0.8 <= min(masses) < 0.85 and 1.15 < max(masses) <= 1.2
    seed = next(
        s for s, (share, m) in enumerate(hidden) if abs(share - 0.7) > 0.05 and abs(m - 1) > 0.08
    )
    share, mass = hidden[seed]
    dose = truth.trip(_trip(seed=seed))
    linear = tv.LiteratureOil().trip(_trip(seed=seed))  # 70/30, registered mass
    # Same coefficients, so the ratio shows the hidden split and the hidden mass.
    ratio = dose.pad_front_mm / dose.pad_rear_mm / (linear.pad_front_mm / linear.pad_rear_mm)
    assert ratio == pytest.approx(share / (1 - share) / (0.7 / 0.3))
    # The hidden mass: the same split on the registered mass brakes less (or more).
    registered = tv.MassAndSplit(mass_range=(1.0, 1.0)).trip(_trip(seed=seed))
    heavier = dose.pad_front_mm / registered.pad_front_mm
    assert (heavier - 1.0) * (mass - 1.0) > 0.0 and abs(heavier - 1.0) > 0.05


def test_fuel_dilution_builds_on_short_cold_trips_and_boils_off_on_long_hot_ones():
    truth = tv.FUEL_DILUTION
    cold = truth.trip(_trip(oil_c=np.linspace(0.0, 55.0, 600), minutes=10, ambient=0.0))
    hot = truth.trip(_trip(oil_c=100.0, minutes=60))
    assert cold.oil[1] > 0.1 and cold.oil[2] == 0.0  # fuel in, nothing boiled off
    assert hot.oil[1] == 0.0 and hot.oil[2] > 0.6
    short = _fill(truth, trips=50, channels=(cold.oil[1], 0.0))
    clean = _fill(truth, trips=50, channels=(0.0, 0.0))
    assert short[-1] > 1.3 * clean[-1] and clean[-1] == pytest.approx(50.0)
    fill = OilFill(
        1, 0, 0.0, np.arange(1.0, 4.0), np.ones(3), np.array([[1, 0.5, 0], [1, 0, 0.8], [1, 0, 0]])
    )
    assert truth.dilution(fill) == pytest.approx([0.5, 0.1, 0.1])


def test_calendar_oxidation_ages_oil_that_is_not_driven():
    truth = tv.CALENDAR_OXIDATION
    parked = _fill(truth, trips=300, dose=0.0)
    assert (np.diff(parked) > 0).all() and 30.0 < parked[-1] < 100.0
    later = _fill(truth, trips=300, dose=0.0, start_day=500.0)
    assert later == pytest.approx(parked)  # days since the change, not since enrollment
    driven = truth.trip(_trip()).oil[0]
    assert driven == pytest.approx(0.8 * tv.LiteratureOil().trip(_trip()).oil[0])


def test_grade_and_hot_pads():
    truth = tv.GradeAndHotPads()
    flat = tv.GradeAndHotPads(hilliness_range=(0.0, 0.0))
    # One trip may climb more than it descends; over many, descents add braking (Jensen).
    hills = [
        sum(truth.trip(_trip(seed=s, index=k, minutes=5)).pad_front_mm for k in range(30))
        / sum(flat.trip(_trip(seed=s, index=k, minutes=5)).pad_front_mm for k in range(30))
        for s in range(4)
    ]
    assert min(hills) > 1.0 and max(hills) > 1.2
    grade = truth.grade_rad(_trip(seed=2, index=5))
    assert (
        np.abs(grade).max() > 0.0
        and grade.tolist() == truth.grade_rad(_trip(seed=2, index=5)).tolist()
    )
    assert grade.tolist() != truth.grade_rad(_trip(seed=2, index=6)).tolist()
    f = truth.temperature_factor(np.array([100.0, 200.0, 250.0, 300.0, 600.0]))
    assert f[0] == pytest.approx(1.0, abs=0.15) and f[1] == pytest.approx(2.0)
    assert f[3] - f[2] > f[2] - f[1] > 0.0 and f[4] == truth.cap  # convex, capped


@pytest.mark.parametrize("name", sorted(tv.VARIANTS))
def test_every_variant_is_a_wear_truth_and_deterministic_by_seed(name):
    truth = tv.VARIANTS[name]
    assert isinstance(truth, WearTruth) and truth.name == name
    a, b = truth.trip(_trip(seed=11, index=3)), truth.trip(_trip(seed=11, index=3))
    assert a == b and a.oil[0] > 0.0 and a.pad_front_mm > 0.0 and a.pad_rear_mm > 0.0
    other = truth.trip(_trip(seed=12, index=3))
    assert other != a  # another car's hidden factors
    fill = _fill(truth, seed=11, number=2, trips=30, channels=a.oil[1:])
    assert fill.tolist() == _fill(truth, seed=11, number=2, trips=30, channels=a.oil[1:]).tolist()
    assert (np.diff(fill) >= 0).all()
