# SPDX-License-Identifier: MIT
"""Signals as a car and its dongle give them, not as the simulator computes them.

The simulator's traces are clean 1 Hz floats of every signal. The service sees something
else: what the edge agent polled (``edge_agent.agent.Schedule``: speed, rpm and load every
second, the temperatures, fuel, voltage and odometer every ten), each sample a moment later
than its poll began and quantised to its PID's resolution (``telemetry.signals``), some polls
unanswered, the odd gap while the adapter reconnects, the first seconds of a trip missed
while the dongle wakes; and only the PIDs the car supports. Most cars before 2019 answer
neither oil temperature (0x5C), nor ambient temperature (0x46), nor the odometer (0xA6).

``observe`` turns one trace into those series, seeded per vehicle and trip, so the models are
trained and scored on what production would have stored for the same drive.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from edge_agent.agent import Schedule
from modellab.registration import production_mass
from predictive import brakes, learned
from predictive.totals import BrakeTotals, OilTotals, advance_brakes, advance_oil
from telemetry import by_name

if TYPE_CHECKING:
    from firmware_sim.vehicle_data import Trace, VehicleSpec

FloatArray = npt.NDArray[np.float64]
Series = tuple[FloatArray, FloatArray]  # (epoch seconds, values), as predictive.totals takes
_EMPTY: Series = (np.zeros(0), np.zeros(0))


@dataclass(frozen=True)
class MakeProfile:
    """Which PIDs a kind of car leaves unanswered, and its share of the fleet."""

    name: str
    missing: frozenset[str]
    share: float


# Shares for a fleet of mixed ages: model years before 2019 rarely support 0x5C, 0x46 or
# 0xA6; some later cars still lack oil temperature.
PROFILES: tuple[MakeProfile, ...] = (
    MakeProfile("full", frozenset(), 0.35),
    MakeProfile("no_oil_temp", frozenset({"oil_temp_c"}), 0.25),
    MakeProfile("pre_2019", frozenset({"oil_temp_c", "ambient_temp_c", "odometer_km"}), 0.40),
)


@dataclass(frozen=True)
class Polling:
    """How the agent's polling departs from the schedule on a real adapter."""

    schedule: Schedule = field(default_factory=Schedule)
    pid_read_s: float = 0.06  # one PID's request and reply over an ELM327 at 38,400 baud
    jitter_s: float = 0.05  # scatter of each reply's arrival
    unanswered: float = 0.01  # share of requests that get NO DATA or time out
    wake_s: tuple[float, float] = (2.0, 8.0)  # the dongle wakes and connects after key-on
    gaps_per_hour: float = 0.5  # adapter reconnects while driving
    gap_mean_s: float = 20.0


DEFAULT_POLLING = Polling()


def profile_of(vehicle_seed: int) -> MakeProfile:
    """The vehicle's make profile, drawn once from its seed."""
    rng = np.random.default_rng([vehicle_seed, 0x0BD2])
    shares = np.array([p.share for p in PROFILES])
    return PROFILES[int(rng.choice(len(PROFILES), p=shares / shares.sum()))]


def quantised(values: FloatArray, name: str) -> FloatArray:
    """Values as the PID reports them: whole counts of its resolution, within its range."""
    signal = by_name(name)
    assert signal is not None, name
    top = round((signal.max - signal.min) / signal.resolution)
    counts = np.clip(np.round((values - signal.min) / signal.resolution), 0, top)
    return np.asarray(signal.min + counts * signal.resolution, dtype=np.float64)


def _polled(
    duration_s: float, group: tuple[str, ...], period_s: float, offset_s: float, p: Polling
) -> dict[str, FloatArray]:
    """Nominal sample times (seconds into the trip) of each signal of one poll group."""
    starts = np.arange(offset_s, duration_s, period_s)
    return {name: starts + i * p.pid_read_s for i, name in enumerate(group)}


def observe(
    start_s: float,
    t_s: FloatArray,
    signals: dict[str, FloatArray],
    *,
    profile: MakeProfile,
    rng: np.random.Generator,
    polling: Polling = DEFAULT_POLLING,
) -> dict[str, Series]:
    """One trip's signals as stored: ``start_s`` (epoch seconds) plus ``t_s`` (seconds into
    the trip, 1 Hz) and the trace's ``signals``; returns the series of every signal the car
    answered, keyed by name."""
    duration = float(t_s[-1]) if t_s.size else 0.0
    wake = rng.uniform(*polling.wake_s)
    fast = polling.schedule.fast
    times = _polled(duration, fast, polling.schedule.fast_period_s, wake, polling)
    slow_start = wake + len(fast) * polling.pid_read_s
    times |= _polled(
        duration, polling.schedule.slow, polling.schedule.slow_period_s, slow_start, polling
    )
    # Reconnect gaps: a Poisson number over the trip, each of exponential length.
    gaps = [
        (at, at + rng.exponential(polling.gap_mean_s))
        for at in rng.uniform(0.0, duration, rng.poisson(polling.gaps_per_hour * duration / 3600))
    ]
    out: dict[str, Series] = {}
    for name, nominal in times.items():
        if name not in signals or name in profile.missing:
            continue
        at = nominal + np.abs(rng.normal(0.0, polling.jitter_s, nominal.size))
        keep = (rng.random(at.size) >= polling.unanswered) & (at <= duration)
        for lo, hi in gaps:
            keep &= (at < lo) | (at >= hi)
        at = at[keep]
        values = np.interp(at, t_s, signals[name])
        out[name] = (start_s + at, quantised(values, name))
    return out


class ObservedVehicle:
    """One simulated car as production sees it, trip after trip: its make profile, and the
    running totals the service would keep from what its dongle stored
    (``predictive.totals``, the same code the evaluator runs)."""

    def __init__(self, spec: VehicleSpec, seed: int, estimate: bool) -> None:
        self.spec = spec
        self.seed = seed
        self.profile = profile_of(seed)
        # The mass production would model the car with: its registration's, never the spec's.
        self.mass = production_mass(spec, seed)
        self._oil = OilTotals()
        self._brakes = BrakeTotals()
        # The same oil model as for a car without PID 0x5C (held-out side only).
        self._oil_est: OilTotals | None = OilTotals() if estimate else None

    def trip(self, trace: Trace, index: int) -> tuple[list[float], list[float]]:
        """(km, braking MJ, stops, *oil features, effective Mrevs) of one trip from its
        observed signals; and the oil features with the oil temperature estimated."""
        assert trace.start is not None
        start = trace.start.timestamp()
        series = observe(
            start,
            trace.t_s,
            trace.signals,
            profile=self.profile,
            rng=np.random.default_rng([self.seed, index, 0x5157]),
        )
        end = start + (float(trace.t_s[-1]) if trace.t_s.size else 0.0)
        speed = series.get("speed_kmh", _EMPTY)
        ambient = series.get("ambient_temp_c", _EMPTY)
        brakes_now = advance_brakes(
            self._brakes,
            speed=speed,
            mass_kg=self.mass.mass_kg,
            through_s=end,
            friction_share=brakes.REGEN_FRICTION_SHARE.get(self.spec.kind, 1.0),
            engine_braking=self.spec.kind in brakes.ENGINE_BRAKING_FUELS,
            ambient=ambient,
        )
        km = brakes_now.km - self._brakes.km
        mj = brakes_now.braking_mj - self._brakes.braking_mj
        self._brakes = brakes_now
        v = speed[1]
        stops = float(np.count_nonzero((v[1:] <= 0.0) & (v[:-1] > 0.0)))
        n = len(learned.OIL_FEATURES)
        x, eff, x_est = np.zeros(n), 0.0, np.zeros(n if self._oil_est is not None else 0)
        if self.spec.has_engine:
            oil = functools.partial(
                advance_oil,
                rpm=series.get("engine_rpm", _EMPTY),
                coolant_temp=series.get("coolant_temp_c", _EMPTY),
                speed=speed,
                load=series.get("engine_load_pct", _EMPTY),
                ambient=ambient,
                through_s=end,
            )
            now = oil(self._oil, oil_temp=series.get("oil_temp_c", _EMPTY))
            x = _features(now) - _features(self._oil)
            eff = (now.effective_revs - self._oil.effective_revs) / 1e6
            self._oil = now
            if self._oil_est is not None:
                est = oil(self._oil_est, oil_temp=_EMPTY)
                x_est = _features(est) - _features(self._oil_est)
                self._oil_est = est
        return [km, mj, stops, *x.tolist(), eff], x_est.tolist()


def _features(totals: OilTotals) -> FloatArray:
    n = len(learned.OIL_FEATURES)
    if totals.oil_features is None:
        return np.zeros(n)
    return np.asarray(totals.oil_features, dtype=np.float64)
