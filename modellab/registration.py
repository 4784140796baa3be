# SPDX-License-Identifier: MIT
"""What production knows of a simulated car's mass: what its registration would say.

The simulator drives each car with its exact mass (``VehicleSpec.mass_kg``); production knows
only what the owner or fleet typed at registration. Per vehicle, drawn once from its seed:

* ``REGISTERED_SHARE`` of cars are registered with their kerb mass, typed from the papers
  with a small error (``ENTRY_REL_SD``, rounded to 10 kg);
* ``BODY_ONLY_SHARE`` only with their body type (``BODY_OF_MODEL``, the class a buyer's guide
  puts the model line in);
* the rest with neither.

The mass the models get is then ``predictive.mass.vehicle_mass`` of that registration: the
same function, the same class defaults and spreads as production's evaluator
(``predictive.vehicle_pass``). Nothing in modellab hands the models ``spec.mass_kg``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from predictive.mass import VehicleMass, vehicle_mass

if TYPE_CHECKING:
    from firmware_sim.vehicle_data import VehicleSpec

# Shares of a fleet's registrations (fleet managers register from their asset lists, which
# name the mass more often than a private owner's form does).
REGISTERED_SHARE = 0.5
BODY_ONLY_SHARE = 0.35
# A registered mass is the papers' kerb mass typed by hand.
ENTRY_REL_SD = 0.03

# The body class of each simulated model line (firmware_sim.catalogue.MODELS).
BODY_OF_MODEL: dict[tuple[str, str], str] = {
    ("Ford", "Focus"): "compact",
    ("Chevrolet", "Malibu"): "midsize",
    ("Honda", "Civic"): "compact",
    ("Toyota", "Camry"): "midsize",
    ("Ford", "F-150"): "pickup",
    ("Volkswagen", "Jetta TDI"): "compact",
    ("Ram", "1500 EcoDiesel"): "pickup",
    ("Ford", "Transit"): "van",
    ("Toyota", "Prius"): "compact",
    ("Honda", "Accord Hybrid"): "midsize",
    ("Tesla", "Model 3"): "midsize",
    ("Chevrolet", "Bolt EV"): "compact",
}


@dataclass(frozen=True)
class Registration:
    """What a car's registration says of its mass: the kerb mass typed, or the body type."""

    mass_kg: float | None
    body_type: str | None


def registration_of(spec: VehicleSpec, vehicle_seed: int) -> Registration:
    """The car's registration, drawn once from its seed."""
    rng = np.random.default_rng([vehicle_seed, 0x4A55])
    draw, error = float(rng.random()), float(rng.normal(0.0, ENTRY_REL_SD))
    if draw < REGISTERED_SHARE:
        return Registration(round(spec.mass_kg * (1.0 + error), -1), None)
    if draw < REGISTERED_SHARE + BODY_ONLY_SHARE:
        return Registration(None, BODY_OF_MODEL.get((spec.make, spec.model)))
    return Registration(None, None)


def production_mass(spec: VehicleSpec, vehicle_seed: int) -> VehicleMass:
    """The mass production's models would use for this car (``predictive.mass``)."""
    reg = registration_of(spec, vehicle_seed)
    return vehicle_mass(registered_kg=reg.mass_kg, body_type=reg.body_type, fuel_type=spec.kind)
