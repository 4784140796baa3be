# SPDX-License-Identifier: MIT
"""Hidden ground truth: oil degradation, Archard pad wear, disc temperature, service resets."""

import numpy as np
import pytest

from firmware_sim import cycles
from firmware_sim.truth import PAD_NEW_MM, TruthView, WearTraits
from firmware_sim.vehicle import Vehicle, VehicleSpec

VIN = "WLS12345678901234"


def car(seed: int = 1, **kw: object) -> Vehicle:
    return Vehicle(VehicleSpec(vin=VIN, **kw), seed=seed)  # type: ignore[arg-type]


def hard_stops(n: int, gap_s: int) -> np.ndarray:
    stop = np.concatenate(
        [np.linspace(0, 130, 15), np.full(20, 130.0), np.linspace(130, 0, 6), np.zeros(gap_s)]
    )
    return np.tile(stop, n)


def test_service_resets_the_truth() -> None:
    v = car(initial_oil_life_pct=30.0, initial_pad_front_mm=4.0, initial_pad_rear_mm=5.0)
    v.drive(cycles.load_cycle("us06"))
    v.service(pads="front")
    assert v.truth.pad_front_mm == PAD_NEW_MM and v.truth.pad_rear_mm < 5.0
    assert v.truth.oil_life_pct < 30.0
    v.service(oil_change=True, pads="rear")
    assert v.truth.oil_life_pct == 100.0 and v.truth.pad_rear_mm == PAD_NEW_MM
    with pytest.raises(ValueError):
        v.service(pads="left")  # type: ignore[arg-type]


def test_pad_wear_is_proportional_to_friction_energy() -> None:
    v = car()
    v.drive(cycles.load_cycle("udds"))
    once = PAD_NEW_MM - v.truth.pad_front_mm
    energy = v.truth.total_braking_energy_j
    v.drive(cycles.load_cycle("udds"))
    twice = PAD_NEW_MM - v.truth.pad_front_mm
    assert twice == pytest.approx(2 * once, rel=0.05)
    assert v.truth.total_braking_energy_j == pytest.approx(2 * energy, rel=0.05)
    mm_per_mj = once / (energy * 0.7 / 1e6)
    assert mm_per_mj == pytest.approx(v.traits.pad_front_mm_per_mj, rel=0.01)  # cool discs


def test_repeated_hard_braking_heats_discs_and_wears_faster_per_joule() -> None:
    def wear_per_mj(gap_s: int) -> tuple[float, float]:
        v = car(mass_kg=2300.0)  # a loaded van: more heat per stop
        v.drive(hard_stops(30, gap_s))
        mm = PAD_NEW_MM - v.truth.pad_front_mm
        return mm / (v.truth.total_braking_energy_j / 1e6), v.truth.max_disc_c

    hot_rate, hot_c = wear_per_mj(gap_s=5)
    cool_rate, cool_c = wear_per_mj(gap_s=600)
    assert hot_c > 300.0 > cool_c
    assert hot_rate > 1.2 * cool_rate
    v = car()
    v.drive(hard_stops(30, 5))
    v.park(3 * 3600)
    assert v.truth.disc_front_c < 30.0  # cooled back toward ambient


def test_oil_wears_faster_with_cold_starts_load_and_per_vehicle_traits() -> None:
    def oil_used(seed: int, hops: int, park_s: float, ambient_c: float) -> float:
        v = car(seed=seed, ambient_c=ambient_c)
        for _ in range(hops):
            v.drive(cycles.load_cycle("udds")[: 1370 // hops])
            v.park(park_s)
        return 100.0 - v.truth.oil_life_pct

    one_warm = oil_used(1, 1, 0, 20.0)
    many_cold = oil_used(1, 6, 6 * 3600, -5.0)
    assert many_cold > 1.5 * one_warm
    traits = {round(WearTraits.draw(s).oil_wear_mult, 6) for s in range(20)}
    assert len(traits) == 20 and WearTraits.draw(3) == WearTraits.draw(3)
    assert oil_used(1, 1, 0, 20.0) == one_warm  # deterministic for a seed
    assert oil_used(2, 1, 0, 20.0) != one_warm
    per_rev = []
    for name in ("us06", "udds"):
        warm = car()
        warm.drive(cycles.load_cycle("hwfet"))  # same warm oil for both
        oil0, revs0 = warm.truth.oil_life_pct, warm.truth.total_revolutions
        warm.drive(cycles.load_cycle(name))
        per_rev.append((oil0 - warm.truth.oil_life_pct) / (warm.truth.total_revolutions - revs0))
    assert per_rev[0] > 1.05 * per_rev[1]  # heavily loaded revolutions age the oil more


def test_truth_view_is_read_only_evaluation_access() -> None:
    v = car(initial_oil_life_pct=80.0)
    view = TruthView(v)
    assert view.oil_life_pct == 80.0 and view.traits == v.traits
    copy = view.copy()
    copy.oil_life_pct = 1.0
    assert v.truth.oil_life_pct == 80.0
