# SPDX-License-Identifier: MIT
"""Cycle loading, trip splitting, day schedules and the command line."""

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import serial

from firmware_sim import cycles
from firmware_sim.daily_driving import PROFILES, day_trips, make_fleet, simulate_day
from firmware_sim.vehicle import Vehicle, VehicleSpec
from firmware_sim.vin import make_vin, vin_check_digit

ROOT = Path(__file__).resolve().parents[2]


def test_standard_cycles_in_kmh() -> None:
    assert {"udds", "hwfet", "us06"} <= set(cycles.available_cycles())
    udds = cycles.load_cycle("udds")
    assert len(udds) == 1370
    assert cycles.distance_km(udds) == pytest.approx(12.07, abs=0.1)
    assert udds.max() == pytest.approx(91.2, abs=0.3)  # 25.3 m/s
    with pytest.raises(KeyError):
        cycles.load_cycle("nope")


def test_real_trips_split_and_converted_from_mph() -> None:
    trips = cycles.real_trips()
    assert len(trips) == 13  # NREL's trips.csv lists 13 trips for these three days
    first = trips[0]
    assert cycles.distance_km(first) == pytest.approx(13.89 * 1.609344, rel=0.01)
    assert first[0] == 0 and first[-1] == 0 and first.max() < 130


def test_split_on_gap() -> None:
    t = np.array([0, 1, 2, 3, 1000, 1001, 1002, 1003], dtype=float)
    v = np.array([0, 50, 50, 0, 0, 40, 40, 0], dtype=float) * 20
    assert len(cycles.split_trips(t, v)) == 2


def test_commuter_day_distance_and_order() -> None:
    rng = np.random.default_rng(0)
    km = []
    for d in range(10):
        trips = day_trips("commuter", dt.date(2024, 4, 1) + dt.timedelta(d), rng)
        starts = [s for s, _ in trips]
        assert all(s.tzinfo is not None for s in starts)
        for (s0, v0), s1 in zip(trips, starts[1:], strict=False):
            assert s0 + dt.timedelta(seconds=len(v0)) < s1
        if d < 5:  # 2024-04-01 is a Monday
            km.append(sum(cycles.distance_km(v) for _, v in trips))
    assert all(35 <= k <= 65 for k in km), km
    delivery = day_trips(PROFILES["urban_delivery"], dt.date(2024, 4, 1), rng)
    assert sum(cycles.distance_km(v) for _, v in delivery) > 60


def test_simulate_day_traces() -> None:
    v = Vehicle(VehicleSpec(vin=make_vin(np.random.default_rng(1))))
    traces = simulate_day(v, "short_trip", dt.date(2024, 1, 10), np.random.default_rng(2))
    assert traces and all(t.start is not None and t.start.tzinfo for t in traces)
    assert all(t.signals["coolant_temp_c"].max() < 90 for t in traces)
    assert not v.state.engine_on


def test_vin_and_fleet() -> None:
    assert vin_check_digit("1M8GDM9AXKP042788") == "X"  # the textbook example
    fleet = make_fleet(10, seed=3)
    vins = [m.vehicle.spec.vin for m in fleet]
    assert len(set(vins)) == 10 and all(vin_check_digit(x) == x[8] for x in vins)


def test_cli_dongle_prints_path_then_serves() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "firmware_sim", "dongle", "--pty", "--speedup", "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
        text=True,
    )
    try:
        path = proc.stdout.readline().strip()  # type: ignore[union-attr]
        assert path.startswith("/dev/")
        with serial.Serial(path, 38400, timeout=2) as port:
            port.write(b"ATI\r")
            assert port.read_until(b">") == b"ATI\rELM327 v1.5\r\r>"
            port.write(b"ATE0\r")
            port.read_until(b">")
            port.write(b"010D\r")
            assert port.read_until(b">").startswith(b"41 0D ")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
