# SPDX-License-Identifier: MIT
"""Kinetic and friction-brake energy per trip of a recorded speed trace.

The library behind ``wrenchlight predictive brake-energy``: readers for the drive-cycle CSV
files, splitting into trips, and per trip the two kinetic figures and the friction estimate of
``predictive.brakes``. Pure Python and numpy; every input problem raises ``TraceError`` with
a one-line message.

Formats
    cmap   a CMAP 2007 day file (NREL TSDC): ``timestamp,cycle_sec,timestep,speed_mph,...``.
           Time comes from ``timestamp`` (naive local time, 1 s resolution): ``cycle_sec``
           jumps back by a day in the middle of some files. Logging gaps are common.
    cycle  a standard cycle (``cycSecs,cycMps[,cycGrade,...]``) or a TSDC trip
           (``time_s,mps[,grade]``): seconds, metres per second, grade as rise over run.

Trips of a CMAP day come from a trips file (NREL's ``trips.csv``: the samples from
``start_ts`` to ``end_ts`` inclusive) or, without one, from splitting at logging gaps longer
than ``TRIP_GAP_S`` and dropping the standstill before the car first moves (all but the last
stationary sample). On the 25 CMAP days this gives exactly NREL's trips, starts and ends.

Per trip:
    kinetic_regen_j_per_kg  NREL's convention (``brakes.kinetic_regen_j_per_kg``): comparable
                            to ``-total_kinetic_power_density_regen``, equal to float precision.
    kinetic_shed_j_per_kg   every drop of ½v² counted, also across logging gaps; never less.
    friction_j              the brakes' share for the given mass and fuel type: kinetic energy
                            shed less rolling resistance, drag, engine braking (petrol, diesel)
                            and the slope when the file has a grade; hybrids and EVs keep
                            ``REGEN_FRICTION_SHARE`` of it. Split front/rear by ``FRONT_SHARE``.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from predictive import brakes
from predictive.brakes import FloatArray

MPH_TO_KMH = 1.609344
MPS_TO_KMH = 3.6
# A logging gap longer than this ends a trip: it reproduces NREL's trips.csv on every CMAP day
# (their longest gap inside a trip is 287 s).
TRIP_GAP_S = 300.0
FUEL_TYPES = ("petrol", "diesel", "hybrid", "electric")
REFERENCE_COLUMN = "total_kinetic_power_density_regen"

Format = Literal["cmap", "cycle"]


class TraceError(ValueError):
    """An input file that cannot be used; the message is one line naming the file."""


@dataclass(frozen=True)
class SpeedTrace:
    """A speed trace: seconds since the first sample, km/h, optional grade and wall clock."""

    path: Path
    kind: str  # "cmap", "standard cycle" or "tsdc trip"
    t_s: FloatArray
    speed_kmh: FloatArray
    grade: FloatArray | None = None
    clock: tuple[dt.datetime, ...] | None = None


@dataclass(frozen=True)
class ReferenceTrip:
    """One row of a trips file: wall-clock bounds and NREL's kinetic figure (J/kg, positive)."""

    start: dt.datetime
    end: dt.datetime
    kinetic_regen_j_per_kg: float | None


@dataclass(frozen=True)
class TripEnergy:
    """The figures of one trip (energies in J, per kg where named so)."""

    trip: int
    start: str | None
    end: str | None
    start_s: float
    end_s: float
    duration_s: float
    distance_km: float
    kinetic_regen_j_per_kg: float
    kinetic_shed_j_per_kg: float
    friction_j: float
    friction_front_j: float
    friction_rear_j: float
    reference_j_per_kg: float | None = None
    rel_diff: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in reader.fieldnames or []]
            reader.fieldnames = header
            rows = list(reader)
    except FileNotFoundError:
        raise TraceError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise TraceError(f"{path}: is a directory, not a CSV file") from None
    except UnicodeDecodeError:
        raise TraceError(f"{path}: not a text CSV file") from None
    except (OSError, csv.Error) as exc:
        raise TraceError(f"{path}: cannot read: {exc}") from None
    if not header:
        raise TraceError(f"{path}: empty file")
    return header, rows


def _number(path: Path, line: int, column: str, text: str | None) -> float:
    try:
        x = float(text or "")
    except ValueError:
        raise TraceError(f"{path} line {line}: {column} is {text!r}, not a number") from None
    if not math.isfinite(x):
        raise TraceError(f"{path} line {line}: {column} is {text!r}")
    return x


def _timestamp(path: Path, line: int, column: str, text: str | None) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat((text or "").strip())
    except ValueError:
        raise TraceError(
            f"{path} line {line}: {column} is {text!r}, not a timestamp like 2007-05-22 06:35:25"
        ) from None


def _checked(path: Path, kind: str, t: list[float], v: list[float], **extra: Any) -> SpeedTrace:
    if len(t) < 2:
        raise TraceError(f"{path}: {len(t)} samples, need at least 2")
    t_s, speed = np.array(t), np.array(v)
    back = np.flatnonzero(np.diff(t_s) <= 0)
    if back.size:
        # Line numbers count the header as line 1.
        raise TraceError(f"{path} line {back[0] + 3}: time does not increase")
    if (speed < 0).any():
        raise TraceError(f"{path} line {int(np.argmax(speed < 0)) + 2}: negative speed")
    return SpeedTrace(path, kind, t_s - t_s[0], speed, **extra)


def _missing(path: Path, header: list[str], what: str, needed: Sequence[str]) -> TraceError:
    return TraceError(
        f"{path}: not {what}: needs columns {','.join(needed)}, found {','.join(header)}"
    )


def read_cmap_day(path: Path) -> SpeedTrace:
    """A CMAP day file: wall-clock ``timestamp`` and ``speed_mph``."""
    header, rows = _rows(path)
    if not {"timestamp", "speed_mph"} <= set(header):
        raise _missing(path, header, "a CMAP day file", ("timestamp", "speed_mph"))
    clock = [_timestamp(path, i + 2, "timestamp", r["timestamp"]) for i, r in enumerate(rows)]
    t = [(c - clock[0]).total_seconds() for c in clock] if clock else []
    v = [_number(path, i + 2, "speed_mph", r["speed_mph"]) * MPH_TO_KMH for i, r in enumerate(rows)]
    return _checked(path, "cmap", t, v, clock=tuple(clock))


# Column names of the cycle formats: (time in s, speed in m/s, grade).
CYCLE_COLUMNS = {
    "standard cycle": ("cycSecs", "cycMps", "cycGrade"),
    "tsdc trip": ("time_s", "mps", "grade"),
}


def read_cycle(path: Path) -> SpeedTrace:
    """A standard cycle (cycSecs,cycMps,cycGrade,...) or a TSDC trip (time_s,mps,grade)."""
    header, rows = _rows(path)
    found = [k for k, (t_col, v_col, _) in CYCLE_COLUMNS.items() if {t_col, v_col} <= set(header)]
    if not found:
        raise TraceError(
            f"{path}: not a cycle file: needs columns cycSecs,cycMps (standard cycle) or "
            f"time_s,mps (TSDC trip), found {','.join(header)}"
        )
    kind = found[0]
    t_col, v_col, g_col = CYCLE_COLUMNS[kind]
    t = [_number(path, i + 2, t_col, r[t_col]) for i, r in enumerate(rows)]
    v = [_number(path, i + 2, v_col, r[v_col]) * MPS_TO_KMH for i, r in enumerate(rows)]
    grade = None
    if g_col in header:
        grade = np.array([_number(path, i + 2, g_col, r[g_col]) for i, r in enumerate(rows)])
    return _checked(path, kind, t, v, grade=grade)


def read_speed_csv(path: Path, fmt: Format) -> SpeedTrace:
    if fmt == "cmap":
        return read_cmap_day(path)
    if fmt == "cycle":
        return read_cycle(path)
    raise TraceError(f"unknown format {fmt!r}: cmap or cycle")


def read_reference_trips(path: Path) -> list[ReferenceTrip]:
    """A trips file: ``start_ts,end_ts`` and optionally NREL's kinetic regen total."""
    header, rows = _rows(path)
    if not {"start_ts", "end_ts"} <= set(header):
        raise _missing(path, header, "a trips file", ("start_ts", "end_ts"))
    has_ref = REFERENCE_COLUMN in header
    trips = []
    for i, r in enumerate(rows):
        start = _timestamp(path, i + 2, "start_ts", r["start_ts"])
        end = _timestamp(path, i + 2, "end_ts", r["end_ts"])
        if end < start:
            raise TraceError(f"{path} line {i + 2}: end_ts before start_ts")
        text = r[REFERENCE_COLUMN] if has_ref else None
        ref = -_number(path, i + 2, REFERENCE_COLUMN, text) if text else None
        trips.append(ReferenceTrip(start, end, ref))
    return trips


def split_at_gaps(trace: SpeedTrace, gap_s: float = TRIP_GAP_S) -> list[tuple[int, int]]:
    """Index ranges [a, b) of the trips: cut at logging gaps over ``gap_s``, keep those where
    the car moves, each starting at its last stationary sample before the car first moves."""
    cuts = (np.flatnonzero(np.diff(trace.t_s) > gap_s) + 1).tolist()
    out = []
    for a, b in zip([0, *cuts], [*cuts, trace.t_s.size], strict=True):
        moving = np.flatnonzero(trace.speed_kmh[a:b] > 0)
        if moving.size:
            out.append((a + max(int(moving[0]) - 1, 0), b))
    return out


def split_by_reference(
    trace: SpeedTrace, trips: Sequence[ReferenceTrip]
) -> list[tuple[int, int, ReferenceTrip]]:
    """Index ranges [a, b) of the samples within each reference trip; trips without any
    sample in this trace (another day of the same trips file) are left out."""
    if trace.clock is None:
        raise TraceError(f"{trace.path}: a trips file needs wall-clock timestamps (cmap)")
    out = []
    for ref in trips:
        a = bisect.bisect_left(trace.clock, ref.start)
        b = bisect.bisect_right(trace.clock, ref.end)
        if b > a:
            out.append((a, b, ref))
    return out


def trip_energy(
    trace: SpeedTrace,
    a: int,
    b: int,
    *,
    mass_kg: float,
    fuel_type: str = "petrol",
    reference: ReferenceTrip | None = None,
    number: int = 1,
) -> TripEnergy:
    """The figures of samples [a, b) of ``trace`` for a car of ``mass_kg`` and ``fuel_type``."""
    if fuel_type not in FUEL_TYPES:
        raise TraceError(f"unknown fuel type {fuel_type!r}: one of {', '.join(FUEL_TYPES)}")
    t, v = trace.t_s[a:b], trace.speed_kmh[a:b]
    grade = trace.grade[a:b] if trace.grade is not None else None
    combustion = fuel_type in ("petrol", "diesel")
    friction = float(
        brakes.braking_energy_j(
            t,
            v,
            mass_kg=mass_kg,
            engine_brake_mps2=brakes.ENGINE_BRAKE_MPS2 if combustion else 0.0,
            grade=grade,
        ).sum()
    ) * brakes.REGEN_FRICTION_SHARE.get(fuel_type, 1.0)
    regen = float(brakes.kinetic_regen_j_per_kg(t, v).sum())
    ref = reference.kinetic_regen_j_per_kg if reference else None
    rel: float | None = None
    if ref is not None:
        rel = regen / ref - 1.0 if ref else (0.0 if regen == 0 else None)
    clock = trace.clock
    return TripEnergy(
        trip=number,
        start=str(clock[a]) if clock else None,
        end=str(clock[b - 1]) if clock else None,
        start_s=float(t[0]),
        end_s=float(t[-1]),
        duration_s=float(t[-1] - t[0]),
        distance_km=float(brakes.distance_km(t, v).sum()),
        kinetic_regen_j_per_kg=regen,
        kinetic_shed_j_per_kg=float(brakes.kinetic_shed_j_per_kg(t, v).sum()),
        friction_j=friction,
        friction_front_j=friction * brakes.FRONT_SHARE,
        friction_rear_j=friction * (1.0 - brakes.FRONT_SHARE),
        reference_j_per_kg=ref,
        rel_diff=rel,
    )


def analyse(
    trace: SpeedTrace,
    trips: Sequence[ReferenceTrip] | None = None,
    *,
    mass_kg: float,
    fuel_type: str = "petrol",
) -> list[TripEnergy]:
    """Per-trip figures: the trips file's trips, or split at gaps (cmap), or the whole cycle."""
    parts: list[tuple[int, int, ReferenceTrip | None]]
    if trips is not None:
        parts = [*split_by_reference(trace, trips)]
        if not parts:
            raise TraceError(f"{trace.path}: no trip of the trips file lies within this file")
    elif trace.clock is not None:
        parts = [(a, b, None) for a, b in split_at_gaps(trace)]
    else:
        parts = [(0, trace.t_s.size, None)]
    return [
        trip_energy(trace, a, b, mass_kg=mass_kg, fuel_type=fuel_type, reference=ref, number=i)
        for i, (a, b, ref) in enumerate(parts, 1)
    ]


def summary(results: Sequence[TripEnergy]) -> dict[str, Any]:
    """Totals over the trips and, where a reference exists, the largest |relative difference|."""
    out: dict[str, Any] = {
        "trips": len(results),
        "distance_km": sum(r.distance_km for r in results),
        "kinetic_regen_j_per_kg": sum(r.kinetic_regen_j_per_kg for r in results),
        "kinetic_shed_j_per_kg": sum(r.kinetic_shed_j_per_kg for r in results),
        "friction_j": sum(r.friction_j for r in results),
    }
    compared = [r for r in results if r.reference_j_per_kg is not None]
    if compared:
        worst = max(compared, key=lambda r: math.inf if r.rel_diff is None else abs(r.rel_diff))
        out["max_abs_rel_diff"] = None if worst.rel_diff is None else abs(worst.rel_diff)
        out["worst_trip"] = worst.trip
    return out
