# SPDX-License-Identifier: MIT
"""The hidden wear behind a protocol: how one trip's physics wears a car's oil and pads.

A ``WearTruth`` has a ``name`` and two methods:

- ``trip(TripPhysics) -> TripDose``: called once per trip, in driving order, with everything
  the physics computed for the trip (per-step speed, engine speed and load, oil and ambient
  temperature; braking power recomputed on request for another mass, split or grade) and the
  vehicle's seed for the truth's own hidden draws. It returns the pads' wear in mm per axle
  and the oil's per-trip quantities (``oil[0]`` is the life the trip used on fresh oil, in
  points; further channels are the truth's own, e.g. fuel added to the sump).
- ``oil_consumed_pct(OilFill) -> array``: life consumed, in points, after each trip of one
  fill of oil (from a change to the next), from those per-trip quantities. A truth whose oil
  ages with its own state (accelerating near the end, a brand per fill, time in the sump)
  does it here: the service policies change the oil at different trips, so each fill is
  computed from its own start.

``SIMULATOR`` is the default: the simulator's built-in wear (``truth.py``, what
``Vehicle.truth`` holds), passed through unchanged. ``load_truth("module:attribute")``
imports any other (an instance, or a class taking no arguments); a bad spec raises
``TruthSpecError``. The variants shipped with the project are in ``truth_variants``.
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from firmware_sim import physics, powertrain

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class TripPhysics:
    """One trip as the physics drove it, per 1 Hz step; what a wear truth may use."""

    vin: str
    kind: str  # petrol, diesel, hybrid, electric
    vehicle_seed: int  # seed a truth's hidden per-vehicle draws from this
    trip_index: int  # the trip's rank in the vehicle's driving, from 0
    start: dt.datetime
    day: float  # trip end, days since the vehicle's enrollment
    mass_kg: float  # the registered (spec) mass the physics drove with
    crr: float
    cda_m2: float
    regen_max_w: float
    t_s: FloatArray
    speed_kmh: FloatArray
    engine_rpm: FloatArray  # zeros for an EV
    engine_load_pct: FloatArray
    oil_temp_c: FloatArray  # ambient for an EV
    coolant_temp_c: FloatArray
    ambient_c: FloatArray
    # The simulator's built-in wear for this trip (``SIMULATOR`` returns it as it is).
    reference_oil_pct: float
    reference_pad_mm: tuple[float, float]

    @property
    def has_engine(self) -> bool:
        return self.kind != "electric"

    @property
    def dt_s(self) -> FloatArray:
        """Seconds each step lasts (1 s in the fleet simulation)."""
        return np.diff(self.t_s, prepend=self.t_s[0] - 1.0) if self.t_s.size else self.t_s

    def revolutions(self) -> FloatArray:
        """Engine revolutions per step."""
        return self.engine_rpm * self.dt_s / 60.0

    def km(self) -> float:
        """Distance driven."""
        return float((self.speed_kmh * self.dt_s).sum()) / 3600.0

    def friction_w(
        self, mass_kg: float | None = None, grade_rad: FloatArray | None = None
    ) -> FloatArray:
        """Friction-brake power per step (after regeneration), as the physics computes it,
        for this or another mass (``None``: the spec's) and an optional road grade."""
        v = self.speed_kmh / 3.6
        v_prev = np.concatenate(([0.0], v[:-1]))
        dt_s = np.maximum(self.dt_s, 1e-9)
        v_mean = 0.5 * (v + v_prev)
        mass = self.mass_kg if mass_kg is None else float(mass_kg)
        wheel = powertrain.wheel_power_w(
            v_mean, (v - v_prev) / dt_s, mass, self.crr, self.cda_m2, grade_rad
        )
        return powertrain.braking_split_w(wheel, v_mean, mass, self.regen_max_w)[1]

    def disc_c(self, power_w: FloatArray, *, front: bool) -> FloatArray:
        """Disc temperature per step heated by ``power_w`` (the simulator's lumped disc,
        starting at ambient: trips follow parking)."""
        if not power_w.size:
            return power_w
        seg = physics.Segments(np.array([power_w.size]))
        cap = physics.DISC_FRONT_J_PER_K if front else physics.DISC_REAR_J_PER_K
        amb = np.array([float(self.ambient_c[0])])
        v = self.speed_kmh / 3.6
        return physics.disc_temperature(power_w, v, seg, amb, amb, cap, 1.0)


@dataclass(frozen=True)
class TripDose:
    """What one trip did to the hidden wear."""

    oil: tuple[float, ...]  # [0]: points of life used on fresh oil; more: the truth's own
    pad_front_mm: float
    pad_rear_mm: float


@dataclass(frozen=True)
class OilFill:
    """One fill of oil: the trips from an oil change (exclusive) to the next (inclusive)."""

    vehicle_seed: int
    number: int  # 0: the oil at enrollment, 1: after the first change, ...
    start_day: float  # the change, days since enrollment
    day: FloatArray  # each trip's end, days since enrollment
    km: FloatArray  # each trip's distance
    oil: FloatArray  # (trips, channels): ``TripDose.oil`` per trip

    @property
    def dose(self) -> FloatArray:
        """Channel 0: points of life each trip used on fresh oil."""
        return self.oil[:, 0]


@runtime_checkable
class WearTruth(Protocol):
    """How trips wear a car's oil and pads (see the module docstring)."""

    name: str

    def trip(self, trip: TripPhysics) -> TripDose: ...

    def oil_consumed_pct(self, fill: OilFill) -> FloatArray: ...


class SimulatorTruth:
    """The simulator's own wear (``truth.py``): revolutions weighted by oil temperature and
    load, a charge per cold start, Archard pads with a hot-disc term, one log-normal factor
    per vehicle. The default, so existing figures keep their meaning."""

    name = "simulator"

    def trip(self, trip: TripPhysics) -> TripDose:
        return TripDose((trip.reference_oil_pct,), *trip.reference_pad_mm)

    def oil_consumed_pct(self, fill: OilFill) -> FloatArray:
        return np.cumsum(fill.dose)


SIMULATOR = SimulatorTruth()


class TruthSpecError(ValueError):
    """A ``--truth`` that is not ``module:attribute`` naming a wear truth."""


def load_truth(spec: str) -> WearTruth:
    """The wear truth ``module:attribute`` names (an instance, or a class built with no
    arguments), imported from the Python path."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise TruthSpecError(f"--truth {spec!r}: expected module:attribute, e.g. {EXAMPLE_SPEC}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise TruthSpecError(f"--truth {spec!r}: cannot import {module_name!r} ({exc})") from None
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise TruthSpecError(f"--truth {spec!r}: {module_name} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if isinstance(obj, type):
        try:
            obj = obj()
        except TypeError as exc:
            raise TruthSpecError(
                f"--truth {spec!r}: the class must be built with no arguments ({exc})"
            ) from None
    missing = [m for m in ("name", "trip", "oil_consumed_pct") if not hasattr(obj, m)]
    if missing or not callable(obj.trip) or not callable(obj.oil_consumed_pct):
        raise TruthSpecError(
            f"--truth {spec!r}: not a wear truth (needs name, trip() and oil_consumed_pct(); "
            f"missing {', '.join(missing) or 'callables'})"
        )
    return obj  # type: ignore[no-any-return]


EXAMPLE_SPEC = "firmware_sim.truth_variants:ACCELERATING_OIL"
