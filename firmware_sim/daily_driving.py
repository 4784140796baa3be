# SPDX-License-Identifier: MIT
"""Fleet schedules: driver profiles that compose cycles and real trips into days of driving."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from firmware_sim import catalogue, cycles
from firmware_sim.faults import FaultSchedule
from firmware_sim.vehicle import Trace, Vehicle

# A first trip of the day after an unknown rest starts from a fully cold engine.
OVERNIGHT_PARK_S = 12 * 3600.0
REFUEL_BELOW_PCT = 15.0
MIN_PARK_S = 300.0


@dataclass(frozen=True)
class DriverProfile:
    """How one kind of driver uses the car: which traffic, how many trips, how far."""

    name: str
    pool: tuple[str, ...]
    use_real_trips: bool
    weekday_trips: tuple[int, int]
    weekend_trips: tuple[int, int]
    trip_km: tuple[float, float]
    day_start_h: tuple[float, float]
    day_end_h: float


PROFILES: dict[str, DriverProfile] = {
    p.name: p
    for p in (
        # Two 17-30 km commutes (35-60 km/day), a mix of town and ring road.
        DriverProfile(
            "commuter",
            ("udds", "hwfet", "wltc_class3_med3b", "wltc_class3_high3b"),
            True,
            (2, 2),
            (0, 2),
            (17.0, 30.0),
            (6.5, 8.5),
            19.0,
        ),
        # Many short urban hops with stops: heavy braking per km.
        DriverProfile(
            "urban_delivery",
            ("udds", "wltc_class3_low3", "wltc_class3_med3b"),
            False,
            (8, 14),
            (0, 3),
            (5.0, 14.0),
            (7.5, 9.0),
            18.5,
        ),
        DriverProfile(
            "highway",
            ("hwfet", "wltc_class3_extra_high3", "wltc_class3_high3b"),
            False,
            (2, 3),
            (0, 2),
            (50.0, 110.0),
            (6.0, 9.0),
            20.0,
        ),
        DriverProfile(
            "aggressive",
            ("us06", "wltc_class3_extra_high3"),
            False,
            (2, 4),
            (1, 3),
            (10.0, 25.0),
            (7.0, 10.0),
            23.0,
        ),
        # Trips too short to warm the oil: the worst case for oil life.
        DriverProfile(
            "short_trip",
            ("udds", "wltc_class3_low3"),
            False,
            (3, 6),
            (1, 4),
            (1.5, 4.0),
            (7.5, 10.0),
            19.0,
        ),
    )
}


@lru_cache(maxsize=16)
def _pieces(pool: tuple[str, ...], use_real: bool) -> tuple[tuple[np.ndarray, ...], list[float]]:
    """Stop-to-stop pieces of the pool's cycles (and real trips) and their lengths in km."""
    out: list[np.ndarray] = []
    for name in pool:
        out.extend(cycles.micro_trips(cycles.load_cycle(name)))
    if use_real:
        for trip in cycles.real_trips():
            out.extend(cycles.micro_trips(trip))
    kept = tuple(p for p in out if cycles.distance_km(p) > 0.05)
    for p in kept:
        p.setflags(write=False)  # shared by every composed trip
    return kept, [cycles.distance_km(p) for p in kept]


def compose_trip(profile: DriverProfile, target_km: float, rng: np.random.Generator) -> np.ndarray:
    """Chain random stop-to-stop pieces with short idles until ``target_km`` is reached."""
    pieces, piece_km = _pieces(profile.pool, profile.use_real_trips)
    parts: list[np.ndarray] = [np.zeros(int(rng.integers(5, 30)))]
    km = 0.0
    while km < target_km:
        k = int(rng.integers(len(pieces)))
        # Avoid overshooting the target by much: retry a few times for a piece that fits.
        for _ in range(20):
            if km + piece_km[k] <= target_km * 1.15 or km == 0.0:
                break
            k = int(rng.integers(len(pieces)))
        parts.append(pieces[k])
        parts.append(np.zeros(int(rng.integers(3, 45))))  # traffic light or junction
        km += piece_km[k]
    return np.concatenate(parts)


def day_trips(
    profile: DriverProfile | str, day: dt.date, rng: np.random.Generator
) -> list[tuple[dt.datetime, np.ndarray]]:
    """The trips of one day: UTC start time and speeds in km/h at 1 Hz, non-overlapping."""
    p = PROFILES[profile] if isinstance(profile, str) else profile
    lo, hi = p.weekend_trips if day.weekday() >= 5 else p.weekday_trips
    n = int(rng.integers(lo, hi + 1))
    if n == 0:
        return []
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    t = midnight + dt.timedelta(hours=float(rng.uniform(*p.day_start_h)))
    speeds_list = [compose_trip(p, float(rng.uniform(*p.trip_km)), rng) for _ in range(n)]
    driving_s = sum(len(s) for s in speeds_list)
    # Spread the parking time between trips over the rest of the working day.
    free_s = max((midnight + dt.timedelta(hours=p.day_end_h) - t).total_seconds() - driving_s, 0)
    weights = rng.dirichlet(np.ones(n)) if n > 1 else np.ones(1)
    out = []
    for i, speeds in enumerate(speeds_list):
        out.append((t, speeds))
        gap_s = MIN_PARK_S + (free_s * weights[i] if i < n - 1 else 0.0)
        t = t + dt.timedelta(seconds=len(speeds) + gap_s)
    return out


def ambient_c(base_c: float, when: dt.datetime, swing_c: float = 9.0) -> float:
    """Outside temperature: base, plus a seasonal swing (peak in July) and a daily one."""
    doy = when.timetuple().tm_yday
    hour = when.hour + when.minute / 60.0
    seasonal = swing_c * math.cos(2 * math.pi * (doy - 200) / 365.0)
    daily = 4.0 * math.cos(2 * math.pi * (hour - 15.0) / 24.0)
    return base_c + seasonal + daily


DEFAULT_FAULTS = FaultSchedule()


def begin_trip(vehicle: Vehicle, start: dt.datetime) -> None:
    """Everything between two trips: parking, weather, refuelling, turning the key."""
    spec = vehicle.spec
    parked_at = vehicle.parked_at
    parked_s = OVERNIGHT_PARK_S if parked_at is None else (start - parked_at).total_seconds()
    vehicle.set_ambient(ambient_c(spec.ambient_c, start, spec.ambient_swing_c))
    vehicle.park(parked_s)
    if vehicle.state.fuel_level_pct < REFUEL_BELOW_PCT:
        vehicle.refuel()
    vehicle.ignition(True)


def end_trip(
    vehicle: Vehicle,
    trace: Trace,
    rng: np.random.Generator,
    faults: FaultSchedule | None = DEFAULT_FAULTS,
) -> None:
    """After a trip: latent faults act, the key goes off, the car is parked."""
    if faults is not None:
        faults.after_trip(
            trace,
            rng,
            latent=vehicle.spec.latent_faults,
            memory=vehicle.faults,
            truth=vehicle.truth,
            clock_s=vehicle.clock_s,
        )
    vehicle.ignition(False)
    assert trace.start is not None
    vehicle.parked_at = trace.start + dt.timedelta(seconds=float(len(trace)))


def simulate_day(
    vehicle: Vehicle,
    profile: DriverProfile | str,
    day: dt.date,
    rng: np.random.Generator,
    faults: FaultSchedule | None = DEFAULT_FAULTS,
) -> list[Trace]:
    """Drive one day of trips, cooling the engine while parked in between."""
    traces = []
    for start, speeds in day_trips(profile, day, rng):
        begin_trip(vehicle, start)
        trace = vehicle.drive(speeds, start=start)
        end_trip(vehicle, trace, rng, faults)
        traces.append(trace)
    return traces


@dataclass
class FleetMember:
    """A vehicle and the driver profile that uses it."""

    vehicle: Vehicle
    profile: DriverProfile


def make_fleet(n_vehicles: int, seed: int = 0) -> list[FleetMember]:
    """A mixed fleet of every fuel type: profiles in rotation, homes, models, wear and faults."""
    rng = np.random.default_rng(seed)
    names = list(PROFILES)
    fleet = []
    for i in range(n_vehicles):
        spec = catalogue.make_spec(rng)
        profile = PROFILES[names[i % len(names)]]
        latent: list[str] = []
        # Hard driving finds worn ignition parts; a few cars carry a tired 12 V battery.
        if spec.has_engine and profile.name == "aggressive" and rng.random() < 0.5:
            latent.append("misfire")
        if rng.random() < 0.1:
            latent.append("weak_battery")
            spec = replace(spec, initial_battery_health_pct=float(rng.uniform(45, 60)))
        spec = replace(spec, latent_faults=tuple(latent))
        fleet.append(FleetMember(Vehicle(spec, seed=seed * 1000 + i), profile))
    return fleet


def simulate_fleet(
    fleet: list[FleetMember], first_day: dt.date, days: int, seed: int = 0
) -> Iterator[Trace]:
    """Every trip of every vehicle, day by day (one vehicle at a time; see fleet_arrays)."""
    rng = np.random.default_rng(seed)
    for d in range(days):
        day = first_day + dt.timedelta(days=d)
        for member in fleet:
            yield from simulate_day(member.vehicle, member.profile, day, rng)
