# SPDX-License-Identifier: MIT
"""Hidden ground truth: oil condition, brake pads and battery health, never sent over OBD.

The dongle only ever sees ``EcuSnapshot``; evaluation code reads wear through ``TruthView``,
which needs of a car only its truth and traits (``HidesWear``), so this module knows no
``Vehicle``.
Wear coefficients differ per vehicle (``WearTraits``, drawn from the vehicle's seed) so that
two identical cars driven identically still age differently, as real ones do.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

PAD_NEW_MM = 12.0
# Oil budget in temperature- and load-weighted engine revolutions. Calibrated so mixed
# commuting empties fresh oil in ~12,000 km (see tests/firmware_sim/test_sim_physics.py).
OIL_BUDGET_WEIGHTED_REVS = 36.0e6
# A start with cold oil (fuel dilution, condensation, no oil film) costs this many weighted
# revolutions at 0 °C oil, scaled linearly to nothing at COLD_START_BELOW_C.
COLD_START_WEIGHTED_REVS = 25_000.0
COLD_START_BELOW_C = 40.0
# Archard: worn volume = k·W/H for friction work W; over a fixed pad area that is a thickness
# loss proportional to the energy the axle's brakes absorb. Rear pads are smaller, so the same
# energy takes more millimetres off them.
PAD_FRONT_MM_PER_MJ = 0.0025
PAD_REAR_MM_PER_MJ = 0.0036
# Per-vehicle spread of the wear coefficients (lognormal sigma): pad compound, disc finish,
# oil quality and engine tolerances.
PAD_COEFF_SIGMA = 0.15
OIL_COEFF_SIGMA = 0.10


@dataclass(frozen=True)
class WearTraits:
    """Per-vehicle wear coefficients, fixed for the car's life."""

    oil_wear_mult: float = 1.0
    pad_front_mm_per_mj: float = PAD_FRONT_MM_PER_MJ
    pad_rear_mm_per_mj: float = PAD_REAR_MM_PER_MJ

    @classmethod
    def draw(cls, seed: int) -> WearTraits:
        """Traits of the vehicle with this seed (its own stream, so other draws stay put)."""
        rng = np.random.default_rng([seed, 0x7EA7])
        return cls(
            oil_wear_mult=float(rng.lognormal(0.0, OIL_COEFF_SIGMA)),
            pad_front_mm_per_mj=PAD_FRONT_MM_PER_MJ * float(rng.lognormal(0.0, PAD_COEFF_SIGMA)),
            pad_rear_mm_per_mj=PAD_REAR_MM_PER_MJ * float(rng.lognormal(0.0, PAD_COEFF_SIGMA)),
        )


@dataclass
class GroundTruth:
    """Hidden wear the predictive models must estimate; never sent over OBD."""

    oil_life_pct: float
    pad_front_mm: float
    pad_rear_mm: float
    total_revolutions: float = 0.0
    total_braking_energy_j: float = 0.0  # friction brakes only (regeneration excluded)
    total_kinetic_shed_j: float = 0.0
    total_regen_energy_j: float = 0.0
    battery_health_pct: float = 100.0  # 12 V battery; below ~50 % cranking sags badly
    disc_front_c: float = 15.0
    disc_rear_c: float = 15.0
    max_disc_c: float = 15.0
    cold_starts: int = 0
    oil_weighted_revs: float = 0.0  # since the last oil change


@dataclass(frozen=True)
class TripWear:
    """Wear accumulated over one trip (or one tick), as the physics core reports it."""

    revolutions: float = 0.0
    oil_weighted_revs: float = 0.0
    kinetic_shed_j: float = 0.0
    friction_j: float = 0.0
    regen_j: float = 0.0
    pad_front_mm: float = 0.0
    pad_rear_mm: float = 0.0
    disc_front_end_c: float = 15.0
    disc_rear_end_c: float = 15.0
    max_disc_c: float = 15.0


def apply_trip(truth: GroundTruth, wear: TripWear, traits: WearTraits) -> None:
    """Add one trip's wear to the truth."""
    truth.total_revolutions += wear.revolutions
    truth.total_kinetic_shed_j += wear.kinetic_shed_j
    truth.total_braking_energy_j += wear.friction_j
    truth.total_regen_energy_j += wear.regen_j
    _spend_oil(truth, wear.oil_weighted_revs * traits.oil_wear_mult)
    truth.pad_front_mm = max(truth.pad_front_mm - wear.pad_front_mm, 0.0)
    truth.pad_rear_mm = max(truth.pad_rear_mm - wear.pad_rear_mm, 0.0)
    truth.disc_front_c = wear.disc_front_end_c
    truth.disc_rear_c = wear.disc_rear_end_c
    truth.max_disc_c = max(truth.max_disc_c, wear.max_disc_c)


def cold_start_weighted_revs(oil_temp_c: float) -> float:
    """Oil cost of one engine start at this oil temperature, in weighted revolutions."""
    coldness = min(max((COLD_START_BELOW_C - oil_temp_c) / COLD_START_BELOW_C, 0.0), 1.5)
    return COLD_START_WEIGHTED_REVS * coldness


def apply_cold_start(truth: GroundTruth, oil_temp_c: float, traits: WearTraits) -> None:
    """Charge the oil for one engine start; only cold starts cost anything."""
    cost = cold_start_weighted_revs(oil_temp_c)
    if cost > 0.0:
        truth.cold_starts += 1
        _spend_oil(truth, cost * traits.oil_wear_mult)


def _spend_oil(truth: GroundTruth, weighted_revs: float) -> None:
    truth.oil_weighted_revs += weighted_revs
    truth.oil_life_pct = max(
        truth.oil_life_pct - weighted_revs / OIL_BUDGET_WEIGHTED_REVS * 100.0, 0.0
    )


def service(
    truth: GroundTruth,
    *,
    oil_change: bool = False,
    pads: Literal["front", "rear", "both"] | None = None,
    battery: bool = False,
) -> None:
    """A workshop visit: fresh oil, new pads on one or both axles, a new battery."""
    if pads not in (None, "front", "rear", "both"):
        raise ValueError(f"pads must be 'front', 'rear' or 'both', got {pads!r}")
    if oil_change:
        truth.oil_life_pct = 100.0
        truth.oil_weighted_revs = 0.0
    if pads in ("front", "both"):
        truth.pad_front_mm = PAD_NEW_MM
    if pads in ("rear", "both"):
        truth.pad_rear_mm = PAD_NEW_MM
    if battery:
        truth.battery_health_pct = 100.0


class HidesWear(Protocol):
    """What ``TruthView`` reads of a car (a ``Vehicle`` is one): its truth and wear traits."""

    @property
    def truth(self) -> GroundTruth: ...

    @property
    def traits(self) -> WearTraits: ...


class TruthView:
    """Read-only evaluation access to a vehicle's hidden truth."""

    def __init__(self, vehicle: HidesWear) -> None:
        self._vehicle = vehicle

    @property
    def oil_life_pct(self) -> float:
        """Remaining oil life, 100 when fresh."""
        return self._vehicle.truth.oil_life_pct

    @property
    def pad_front_mm(self) -> float:
        """Front pad friction material left."""
        return self._vehicle.truth.pad_front_mm

    @property
    def pad_rear_mm(self) -> float:
        """Rear pad friction material left."""
        return self._vehicle.truth.pad_rear_mm

    @property
    def traits(self) -> WearTraits:
        """The vehicle's hidden wear coefficients."""
        return self._vehicle.traits

    def copy(self) -> GroundTruth:
        """A detached copy of everything hidden."""
        return dataclasses.replace(self._vehicle.truth)
