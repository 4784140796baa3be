# SPDX-License-Identifier: MIT
"""Braking energy against NREL's figures for real recorded trips (CMAP 2007, via TSDC).

NREL's ``total_kinetic_power_density_regen`` (J/kg, negative) takes, at every sample of a trip,
the kinetic power density of the interval before it, P = Δ(½v²)/Δt = a·v̄ in W/kg, and sums the
negative ones over the samples: each sample weighs one second whatever the logging gap. Its
maximum and average columns, and the ``demand`` totals, follow the same P. So on 1 Hz logging
it is exactly the kinetic energy shed, and across a gap of Δt s it counts 1/Δt of the speed
drop. ``kinetic_regen_j_per_kg`` reproduces it to float precision (~5e-12) for every trip.

Counting every drop in full (``braking_energy_j`` without road losses, the basis of the pad
model and of the friction estimate) gives the same where the logger did not skip while
slowing; six trips have a drop across a 15 s gap and read 0.02-3.5 % higher that way.

Rejected by the data: the file's ``accel_meters_ps`` (a change of mph, not m/s²) times v; a·v
with the speed before or after the interval (2-19 % off); ½Δ(v²) over the 1 s steps only.
Times come from ``timestamp``: ``cycle_sec`` jumps back by a day inside some files.
"""

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from predictive.brakes import (
    ENGINE_BRAKE_MPS2,
    braking_energy_j,
    kinetic_regen_j_per_kg,
    kinetic_shed_j_per_kg,
)

REPO = Path(__file__).resolve().parents[2]
CMAP = next(
    (
        p / "real_world" / "cmap_2007"
        for p in (REPO.parent / "shared/data/drive_cycles", Path("/work/shared/data/drive_cycles"))
        if (p / "real_world" / "cmap_2007").is_dir()
    ),
    None,
)
MPH_TO_KMH = 1.609344

needs_cmap = pytest.mark.skipif(
    CMAP is None, reason="CMAP data absent: ../shared/data/drive_cycles/real_world/cmap_2007"
)


def _trips():
    """(vehicle, start_ts, seconds, km/h, NREL's J/kg as a positive number) of every trip."""
    assert CMAP is not None
    for vehicle in sorted(p for p in CMAP.iterdir() if p.is_dir()):
        days = {}
        with open(vehicle / "trips.csv", newline="") as f:
            trips = list(csv.DictReader(f))
        for trip in trips:
            day = trip["start_ts"][:10]
            if day not in days:
                with open(vehicle / f"{day}.csv", newline="") as f:
                    days[day] = list(csv.DictReader(f))
            rows = [r for r in days[day] if trip["start_ts"] <= r["timestamp"] <= trip["end_ts"]]
            clock = [dt.datetime.fromisoformat(r["timestamp"]) for r in rows]
            t = np.array([(c - clock[0]).total_seconds() for c in clock])
            v = np.array([float(r["speed_mph"]) for r in rows]) * MPH_TO_KMH
            ref = -float(trip["total_kinetic_power_density_regen"])
            yield vehicle.name, trip["start_ts"], t, v, ref


@needs_cmap
def test_kinetic_figure_matches_nrel_within_1pct_for_every_trip():
    n, vehicles, worst = 0, set(), 0.0
    for vehicle, start, t, v, ref in _trips():
        ours = kinetic_regen_j_per_kg(t, v).sum()
        diff = abs(ours / ref - 1)
        assert diff <= 0.01, f"{vehicle} {start}: {ours:.3f} vs NREL {ref:.3f} J/kg"
        worst = max(worst, diff)
        n += 1
        vehicles.add(vehicle)
    assert n == 125 and len(vehicles) == 6
    # Not merely within 1 %: the same computation, up to rounding.
    assert worst < 1e-9


@needs_cmap
def test_counting_drops_across_gaps_in_full_reads_higher_on_some_trips():
    over_1pct = 0
    for _, _, t, v, ref in _trips():
        full = kinetic_shed_j_per_kg(t, v).sum()
        nrel = kinetic_regen_j_per_kg(t, v).sum()
        assert full >= nrel * (1 - 1e-12)
        slowing_across_gap = ((np.diff(t) > 1) & (np.diff(v) < 0)).any()
        if not slowing_across_gap:
            assert full == pytest.approx(nrel, rel=1e-12)
        over_1pct += full > 1.01 * ref
    # The full count would fail the 1 % check: the conventions really differ.
    assert over_1pct >= 1


@needs_cmap
def test_road_losses_take_a_real_share_of_the_kinetic_energy():
    _, _, t, v, _ = next(_trips())
    gross = braking_energy_j(t, v, mass_kg=1400, rolling_resistance=0, drag_area_m2=0).sum()
    net = braking_energy_j(t, v, mass_kg=1400).sum()
    friction = braking_energy_j(t, v, mass_kg=1400, engine_brake_mps2=ENGINE_BRAKE_MPS2).sum()
    assert 0.3 * gross < net < 0.9 * gross
    assert 0.5 * net < friction < 0.95 * net


def test_nrel_convention_counts_one_second_of_a_drop_across_a_gap():
    t = np.array([0.0, 1.0, 16.0, 17.0])
    v_mps = np.array([20.0, 20.0, 10.0, 9.0])
    regen = kinetic_regen_j_per_kg(t, v_mps * 3.6)
    shed = kinetic_shed_j_per_kg(t, v_mps * 3.6)
    assert regen == pytest.approx([0.0, (400 - 100) / 2 / 15, (100 - 81) / 2])
    assert shed == pytest.approx([0.0, (400 - 100) / 2, (100 - 81) / 2])
    with pytest.raises(ValueError, match="increase"):
        kinetic_regen_j_per_kg([0.0, 1.0, 1.0], [10.0, 5.0, 0.0])


def test_engine_braking_and_downhill_change_the_friction_energy():
    t = np.arange(21.0)
    v_kmh = np.linspace(72.0, 0.0, 21)  # 20 m/s to rest at 1 m/s²
    base = braking_energy_j(t, v_kmh, mass_kg=1400).sum()
    engine = braking_energy_j(t, v_kmh, mass_kg=1400, engine_brake_mps2=0.2).sum()
    # 0.2 m/s² while above 20 km/h: 1400 kg x 0.2 m/s² over the ~140 m driven above it.
    assert base - engine == pytest.approx(1400 * 0.2 * (20**2 - (20 / 3.6) ** 2) / 2, rel=0.08)
    downhill = braking_energy_j(t, v_kmh, mass_kg=1400, grade=np.full(21, -0.05)).sum()
    assert downhill - base == pytest.approx(1400 * 9.81 * 0.05 / np.sqrt(1.0025) * 200, rel=0.01)
    # Holding 50 km/h down a 5 % slope takes the brakes; on the level it takes the throttle.
    steady = np.full(61, 50.0)
    assert braking_energy_j(np.arange(61.0), steady, mass_kg=1400).sum() == 0.0
    assert (
        braking_energy_j(np.arange(61.0), steady, mass_kg=1400, grade=np.full(61, -0.05)).sum() > 0
    )
    with pytest.raises(ValueError, match="grade"):
        braking_energy_j(t, v_kmh, mass_kg=1400, grade=[0.0])
