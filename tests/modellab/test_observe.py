# SPDX-License-Identifier: MIT
"""modellab.observe: a trip's signals as the dongle stores them (issue 19, item 4)."""

import numpy as np
import pytest

from modellab import observe
from modellab.drives import simulate

START = 1_780_000_000.0


def _trip(seconds: int = 1800) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    t = np.arange(float(seconds))
    speed = 50.0 + 30.0 * np.sin(t / 60.0)
    return t, {
        "speed_kmh": speed,
        "engine_rpm": 800.0 + speed * 37.3,
        "engine_load_pct": np.full(t.size, 33.3),
        "throttle_pct": np.full(t.size, 12.0),
        "coolant_temp_c": np.minimum(20.0 + t / 10.0, 90.4),
        "oil_temp_c": np.minimum(20.0 + t / 12.0, 100.7),
        "ambient_temp_c": np.full(t.size, 11.6),
        "fuel_level_pct": np.full(t.size, 61.0),
        "module_voltage_v": np.full(t.size, 14.1234),
        "odometer_km": 50_000.0 + np.cumsum(speed) / 3600.0,
    }


def _observe(profile, seed=1, **polling):
    t, signals = _trip()
    return observe.observe(
        START,
        t,
        signals,
        profile=profile,
        rng=np.random.default_rng(seed),
        polling=observe.Polling(**polling),
    )


def test_values_are_whole_counts_of_each_pids_resolution():
    full = observe.PROFILES[0]
    got = _observe(full)
    assert np.all(got["speed_kmh"][1] == np.round(got["speed_kmh"][1]))  # 1 km/h
    assert np.all(got["engine_rpm"][1] * 4 == np.round(got["engine_rpm"][1] * 4))  # 1/4 rpm
    load = got["engine_load_pct"][1]
    assert np.allclose(load / (100 / 255), np.round(load / (100 / 255)))
    assert set(np.round(got["module_voltage_v"][1], 6)) == {14.123}  # 1 mV
    assert set(got["ambient_temp_c"][1]) == {12.0}  # 1 °C


def test_the_agents_rates_with_a_late_start_and_unanswered_polls():
    got = _observe(observe.PROFILES[0], gaps_per_hour=0.0)
    speed_t = got["speed_kmh"][0] - START
    oil_t = got["oil_temp_c"][0] - START
    assert 2.0 <= speed_t[0] <= 8.5  # the dongle wakes after key-on
    assert np.median(np.diff(speed_t)) == pytest.approx(1.0, abs=0.1)
    assert np.median(np.diff(oil_t)) == pytest.approx(10.0, abs=0.2)
    # One poll a second from waking, 1 % unanswered.
    assert 0.97 * (1800 - 8.5) < speed_t.size <= 1800 - 2
    assert np.all(np.diff(speed_t) > 0)


def test_a_reconnect_leaves_a_gap():
    got = _observe(observe.PROFILES[0], gaps_per_hour=40.0, gap_mean_s=30.0, seed=3)
    assert np.diff(got["speed_kmh"][0]).max() > 10.0
    calm = _observe(observe.PROFILES[0], gaps_per_hour=0.0, seed=3)
    assert np.diff(calm["speed_kmh"][0]).max() < 5.0  # an unanswered poll or two, no more


def test_a_car_before_2019_answers_neither_oil_nor_ambient_temperature_nor_odometer():
    old = next(p for p in observe.PROFILES if p.name == "pre_2019")
    got = _observe(old)
    assert not {"oil_temp_c", "ambient_temp_c", "odometer_km"} & got.keys()
    assert {"speed_kmh", "engine_rpm", "coolant_temp_c"} <= got.keys()


def test_profiles_are_drawn_per_vehicle_in_their_shares():
    drawn = [observe.profile_of(seed).name for seed in range(3000)]
    for p in observe.PROFILES:
        assert drawn.count(p.name) / 3000 == pytest.approx(p.share, abs=0.03)
    assert observe.profile_of(42) == observe.profile_of(42)


def test_a_fleet_seen_through_its_dongles_stays_close_to_the_clean_signals():
    """Production's running totals on the stored signals against the simulator's own: the
    distance and braking energy within a few percent; oil features from an estimated oil
    temperature where the car has no PID 0x5C."""
    clean = simulate(6, 20, 3, "held_out", signals="clean")
    seen = simulate(6, 20, 3, "held_out", signals="obd")
    for c, o in zip(clean, seen, strict=True):
        assert o.make_profile in {p.name for p in observe.PROFILES}
        assert o.km.sum() == pytest.approx(c.km.sum(), rel=0.02)
        assert o.braking_mj.sum() == pytest.approx(c.braking_mj.sum(), rel=0.1)
        assert o.stops.sum() == pytest.approx(c.stops.sum(), rel=0.05)
        if o.has_engine:
            assert o.eff_mrevs.sum() == pytest.approx(c.eff_mrevs.sum(), rel=0.1)
            assert o.oil_x.sum() > 0.0
    assert simulate(6, 20, 3, "held_out")[0].km.tolist() == seen[0].km.tolist()  # seeded
