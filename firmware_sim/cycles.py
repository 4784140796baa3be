# SPDX-License-Identifier: MIT
"""Drive cycles: regulatory speed traces and real CMAP 2007 trips, as km/h at 1 Hz.

The CSV files live in ``firmware_sim/data/cycles`` (copied from NREL FASTSim,
Apache-2.0) so the simulator works without any shared data directory.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).parent / "data" / "cycles"
STANDARD_DIR = DATA_DIR / "standard"
CMAP_DIR = DATA_DIR / "cmap_2007"

MPS_TO_KMH = 3.6
MPH_TO_KMH = 1.609344

# A logging gap or standstill this long ends a trip: CMAP loggers pause while the
# car stands still, and NREL's own trips.csv splits at gaps of several minutes.
TRIP_SPLIT_GAP_S = 300.0
# Fragments shorter than this are GPS noise in a car park, not trips.
MIN_TRIP_KM = 0.3


@dataclass(frozen=True)
class RealTrip:
    """One recorded trip: wall-clock start (naive local time) and speeds at 1 Hz."""

    vehicle: str
    start: dt.datetime
    speeds_kmh: np.ndarray


def available_cycles() -> list[str]:
    """Names accepted by load_cycle: the standard cycles, sorted."""
    return sorted(p.stem for p in STANDARD_DIR.glob("*.csv"))


@lru_cache(maxsize=64)
def _load_standard(name: str) -> np.ndarray:
    path = STANDARD_DIR / f"{name}.csv"
    if not path.is_file():
        raise KeyError(f"unknown cycle {name!r}; available: {', '.join(available_cycles())}")
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    secs = np.array([float(r["cycSecs"]) for r in rows])
    mps = np.array([float(r["cycMps"]) for r in rows])
    grid = np.arange(secs[0], secs[-1] + 1.0)
    speeds = np.interp(grid, secs, mps) * MPS_TO_KMH
    speeds.setflags(write=False)
    return speeds


def load_cycle(name: str) -> np.ndarray:
    """Speeds in km/h at 1 Hz of a standard cycle (e.g. 'udds', 'hwfet', 'us06')."""
    return _load_standard(name).copy()


def _read_cmap_day(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Epoch-like seconds and km/h of one CMAP day file, in file order."""
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    t_s = np.array([dt.datetime.fromisoformat(r["timestamp"]).timestamp() for r in rows])
    speeds_kmh = np.array([float(r["speed_mph"]) for r in rows]) * MPH_TO_KMH
    return t_s, speeds_kmh


def split_trips(t_s: np.ndarray, speeds_kmh: np.ndarray) -> list[tuple[float, np.ndarray]]:
    """Split an irregular speed log into trips at long gaps or stops; resample each to 1 Hz."""
    if len(t_s) == 0:
        return []
    moving = speeds_kmh > 0.5
    # A sample closes a trip when the next one is far away in time, or when the car
    # has stood still continuously for TRIP_SPLIT_GAP_S.
    cut_after = np.flatnonzero(np.diff(t_s) > TRIP_SPLIT_GAP_S).tolist()
    still_since = None
    for i, m in enumerate(moving):
        if i and t_s[i] - t_s[i - 1] > TRIP_SPLIT_GAP_S:
            still_since = None  # already cut at this gap; the standstill clock restarts
        if m:
            still_since = None
        elif still_since is None:
            still_since = t_s[i]
        elif t_s[i] - still_since > TRIP_SPLIT_GAP_S and (not cut_after or cut_after[-1] < i):
            cut_after.append(i)
            still_since = t_s[i]
    bounds = sorted(set(cut_after))
    trips = []
    start = 0
    for end in [*bounds, len(t_s) - 1]:
        seg_t, seg_v = t_s[start : end + 1], speeds_kmh[start : end + 1]
        start = end + 1
        if len(seg_t) < 2 or not (seg_v > 0.5).any():
            continue
        # Trim standstill at both ends so a trip starts and ends with the car stopping.
        idx = np.flatnonzero(seg_v > 0.5)
        lo, hi = max(idx[0] - 1, 0), min(idx[-1] + 1, len(seg_t) - 1)
        seg_t, seg_v = seg_t[lo : hi + 1], seg_v[lo : hi + 1]
        grid = np.arange(seg_t[0], seg_t[-1] + 1.0)
        v1 = np.interp(grid, seg_t, seg_v)
        v1[0] = v1[-1] = 0.0
        if v1.sum() / 3600.0 >= MIN_TRIP_KM:
            trips.append((float(seg_t[0]), v1))
    return trips


@lru_cache(maxsize=1)
def _real_trips() -> tuple[RealTrip, ...]:
    out = []
    for day in sorted(CMAP_DIR.glob("*/*.csv")):
        if day.name == "trips.csv":
            continue
        t_s, v = _read_cmap_day(day)
        for start_s, speeds in split_trips(t_s, v):
            speeds.setflags(write=False)
            out.append(RealTrip(day.parent.name, dt.datetime.fromtimestamp(start_s), speeds))
    return tuple(out)


def real_trip_records() -> list[RealTrip]:
    """The bundled CMAP days split into trips, with vehicle id and start time."""
    return list(_real_trips())


def real_trips() -> list[np.ndarray]:
    """The bundled CMAP days split into trips: speeds in km/h at 1 Hz, each starting at rest."""
    return [t.speeds_kmh.copy() for t in _real_trips()]


def distance_km(speeds_kmh: np.ndarray, dt_s: float = 1.0) -> float:
    """Distance of a speed trace by the trapezoid rule."""
    if len(speeds_kmh) < 2:
        return 0.0
    return float(np.trapezoid(speeds_kmh, dx=dt_s) / 3600.0)


def micro_trips(speeds_kmh: np.ndarray) -> list[np.ndarray]:
    """Split a cycle into stop-to-stop pieces, each starting and ending at rest."""
    stopped = np.flatnonzero(speeds_kmh <= 0.0)
    pieces = []
    for a, b in itertools.pairwise(stopped):
        if b - a > 1:
            pieces.append(speeds_kmh[a : b + 1].copy())
    return pieces
