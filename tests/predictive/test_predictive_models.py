# SPDX-License-Identifier: MIT
"""The oil and brake models on synthetic traces with known answers."""

from pathlib import Path

import numpy as np
import pytest

from predictive import brakes, oil

CYCLES = Path("/work/shared/data/drive_cycles/standard")
needs_cycles = pytest.mark.skipif(not CYCLES.is_dir(), reason="/work/shared drive cycles absent")
# rpm per km/h in each gear of a generic six-speed manual; the driver upshifts as soon as the
# next gear keeps the engine above 1,400 rpm.
RPM_PER_KMH = np.array([140.0, 80.0, 55.0, 42.0, 33.0, 26.0])


def _rpm(speed_kmh):
    rpm = np.full(speed_kmh.shape, 800.0)
    for i, v in enumerate(speed_kmh):
        if v >= 1:
            candidates = v * RPM_PER_KMH
            usable = candidates[candidates >= 1400]
            rpm[i] = max(800.0, usable[-1] if usable.size else candidates[0])
    return rpm


def _cycle(name):
    data = np.loadtxt(CYCLES / f"{name}.csv", delimiter=",", skiprows=1)
    return data[:, 0], data[:, 1] * 3.6


def test_temperature_weight_is_one_in_normal_range_and_rises_outside():
    w = oil.temperature_weight([20, 40, 60, 80, 95, 110, 120, 130, 400])
    assert w[3] == w[4] == w[5] == 1.0
    assert w[0] == pytest.approx(oil.COLD_MAX_WEIGHT)
    assert w[0] > w[1] > w[2] > 1.0
    assert w[6] == pytest.approx(2.0) and w[7] == pytest.approx(4.0)
    assert w[8] == oil.HOT_MAX_WEIGHT


def test_hot_oil_wears_faster_than_normal_oil():
    t = np.arange(0.0, 600.0)
    rpm = np.full(t.shape, 2500.0)
    normal = oil.effective_revolutions(t, rpm, np.full(t.shape, 95.0)).sum()
    hot = oil.effective_revolutions(t, rpm, np.full(t.shape, 130.0)).sum()
    assert normal == pytest.approx(2500.0 * 599 / 60)
    assert hot == pytest.approx(4 * normal)


def test_parked_gap_counts_at_most_the_cap():
    t = np.array([0.0, 1.0, 3601.0, 3602.0])
    revs = oil.interval_revolutions(t, np.full(4, 3000.0))
    assert revs == pytest.approx([50.0, 50.0 * oil.MAX_DT_S, 50.0])


def test_hold_values_takes_latest_sample_at_or_before():
    held = oil.hold_values(
        np.array([0.0, 1.0, 2.5, 9.0]), np.array([1.0, 2.0]), np.array([10.0, 20.0]), 90.0
    )
    assert held.tolist() == [10.0, 10.0, 20.0, 20.0]
    assert oil.hold_values(np.array([1.0]), np.zeros(0), np.zeros(0), 90.0).tolist() == [90.0]


def test_oil_life_and_remaining_km():
    assert oil.oil_life_pct(0) == 100.0
    assert oil.oil_life_pct(oil.BUDGET_EFFECTIVE_REVS * 0.86) == pytest.approx(14.0)
    assert oil.oil_life_pct(oil.BUDGET_EFFECTIVE_REVS * 2) == 0.0
    assert oil.remaining_km(oil.BUDGET_EFFECTIVE_REVS - 2000 * 600, 2000.0) == pytest.approx(600)
    assert oil.remaining_km(0, None) is None


@needs_cycles
def test_mixed_driving_uses_the_oil_in_10_to_15_thousand_km():
    revs_per_km = {}
    for name in ("udds", "hwfet"):
        t, v = _cycle(name)
        eff = oil.effective_revolutions(t, _rpm(v), np.full(t.shape, 90.0)).sum()
        revs_per_km[name] = eff / brakes.distance_km(t, v).sum()
    mixed = 0.55 * revs_per_km["udds"] + 0.45 * revs_per_km["hwfet"]
    assert 10_000 < oil.BUDGET_EFFECTIVE_REVS / mixed < 15_000


def test_constant_speed_brakes_nothing():
    t = np.arange(0.0, 300.0)
    energy = brakes.braking_energy_j(t, np.full(t.shape, 80.0), mass_kg=1400)
    assert energy.sum() == 0.0
    assert brakes.distance_km(t, np.full(t.shape, 80.0)).sum() == pytest.approx(80 * 299 / 3600)


def test_stop_sheds_kinetic_energy_minus_road_losses():
    # 20 m/s to rest at 2 m/s² in 10 s, finely sampled; losses integrated analytically.
    mass, t = 1400.0, np.linspace(0.0, 10.0, 10_001)
    v_mps = 20.0 - 2.0 * t
    gross = brakes.braking_energy_j(
        t, v_mps * 3.6, mass_kg=mass, rolling_resistance=0, drag_area_m2=0
    ).sum()
    assert gross == pytest.approx(0.5 * mass * 20.0**2)
    rolling = mass * brakes.G_MPS2 * brakes.ROLLING_RESISTANCE * 100.0  # 100 m stopping
    aero = 0.5 * brakes.AIR_DENSITY_KG_M3 * brakes.DRAG_AREA_M2 * 20.0**4 / 8.0  # ∫v³dt
    net = brakes.braking_energy_j(t, v_mps * 3.6, mass_kg=mass).sum()
    assert net == pytest.approx(0.5 * mass * 20.0**2 - rolling - aero, rel=1e-4)


def test_gentle_coast_down_is_not_braking():
    # Deceleration from drag and rolling alone: 0.12 m/s² at ~50 km/h needs no brakes.
    t = np.arange(0.0, 60.0)
    v_kmh = (15.0 - 0.1 * t) * 3.6
    assert brakes.braking_energy_j(t, v_kmh, mass_kg=1400).sum() == 0.0


@needs_cycles
def test_mixed_driving_wears_front_pads_to_3_mm_in_40_to_60_thousand_km():
    mj_per_km = {}
    for name in ("udds", "hwfet"):
        t, v = _cycle(name)
        mj = brakes.braking_energy_j(
            t, v, mass_kg=1400, engine_brake_mps2=brakes.ENGINE_BRAKE_MPS2
        ).sum()
        mj_per_km[name] = mj / 1e6 / brakes.distance_km(t, v).sum()
    mixed = 0.55 * mj_per_km["udds"] + 0.45 * mj_per_km["hwfet"]
    assert mixed == pytest.approx(brakes.NOMINAL_MJ_PER_KM, rel=0.01)
    km = brakes.remaining_km(brakes.NEW_PAD_MM, brakes.NEW_PAD_MM, mixed)
    assert 40_000 < km < 60_000
    front, rear = brakes.pad_wear_mm(mixed * km)
    assert front == pytest.approx(9.0) and rear < 5.0


def test_oil_life_is_capped_by_time_and_distance():
    assert oil.capped_life_pct(80.0, days_since_change=30, km_since_change=1_000) == (80.0, "wear")
    # A car that barely moves still needs its oil changed after a year.
    life, limit = oil.capped_life_pct(95.0, days_since_change=300, km_since_change=800)
    assert limit == "time" and life == pytest.approx(100 * (1 - 300 / oil.MAX_OIL_AGE_DAYS))
    assert oil.capped_life_pct(95.0, days_since_change=400, km_since_change=800) == (0.0, "time")
    # A model that under-counts wear is stopped by the distance cap.
    life, limit = oil.capped_life_pct(60.0, days_since_change=None, km_since_change=18_000)
    assert limit == "distance" and life == pytest.approx(10.0)
