# SPDX-License-Identifier: MIT
"""A vehicle's mass as the service knows it, and how sure it is of it.

The pad model's braking energy is proportional to mass, so a car's mass enters its pad
prediction whole. What the service knows of it comes from registration:

1. a registered mass (the owner or fleet typed the kerb mass from the registration papers):
   used as given, with ``REGISTERED_REL_SD`` for occupants, cargo and a slip of the keyboard;
2. else the body type: its class's typical kerb mass (``BODY_CLASSES``) and that class's
   spread;
3. else nothing: ``UNKNOWN``, the whole passenger-car range, with a wide spread.

Battery-electric cars and hybrids carry their battery on top of the body's mass
(``POWERTRAIN_FACTOR``); the fuel type is always known at registration.

Class figures are round numbers from published kerb weights of current and recent models
(manufacturers' specification sheets summarised in buyers' guides): each class's 90 % range,
whose geometric middle is the default and whose log-width over 2 × 1.645 is the relative
standard deviation (a log-normal spread: a mass is never negative and errs by factors).

``vehicle_mass`` is the one function production's evaluator (``vehicle_pass``) and the model
lab (``modellab``) both call, so evaluation knows exactly what production would. Pure Python.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

# 1.645: the 95th percentile of a standard normal; a 90 % range spans 2 × 1.645 sd.
_Z90 = 1.6448536269514722


@dataclass(frozen=True)
class BodyClass:
    """A body type's typical kerb mass: its 90 % range in kg."""

    name: str
    low_kg: float
    high_kg: float
    label: str

    @property
    def default_kg(self) -> float:
        """The geometric middle of the range, rounded to 10 kg."""
        return round(math.sqrt(self.low_kg * self.high_kg), -1)

    @property
    def rel_sd(self) -> float:
        """Relative (log) standard deviation of a car's mass in the class."""
        return math.log(self.high_kg / self.low_kg) / (2.0 * _Z90)


BODY_CLASSES: dict[str, BodyClass] = {
    c.name: c
    for c in (
        BodyClass("small", 900.0, 1_250.0, "city car or supermini (Fiat 500, Polo, Yaris)"),
        BodyClass("compact", 1_200.0, 1_500.0, "compact hatchback or saloon (Golf, Civic)"),
        BodyClass("midsize", 1_400.0, 1_800.0, "mid-size saloon or estate (Passat, Camry)"),
        BodyClass("suv", 1_450.0, 2_400.0, "crossover or SUV (RAV4, Tiguan, Explorer)"),
        BodyClass("pickup", 1_900.0, 2_700.0, "pickup truck (F-150, Ram 1500, Hilux)"),
        BodyClass("van", 1_700.0, 2_600.0, "van or light commercial (Transit, Sprinter)"),
    )
}
# The body types a vehicle may be registered with, in the order forms list them (the
# vehicles table's CHECK lists the same; a test keeps them equal).
BodyType = Literal["small", "compact", "midsize", "suv", "pickup", "van"]
BODY_TYPES: tuple[str, ...] = get_args(BodyType)
# Nothing known but the fuel type: the passenger-car and light-van range.
UNKNOWN = BodyClass("unknown", 1_000.0, 2_400.0, "not known")
# A registered kerb mass is off the mass on the road by occupants and cargo (~75-250 kg on
# a 1,500 kg car) and the odd typing slip.
REGISTERED_REL_SD = 0.05
# The battery's mass on top of the body's: a battery-electric car weighs ~20 % more than its
# petrol twin (e.g. a Kona Electric over a Kona 1.6), a full hybrid ~5 %.
POWERTRAIN_FACTOR: dict[str, float] = {"electric": 1.20, "hybrid": 1.05}
# What a registration may say: below a microcar, above a 3.5 t van's gross weight class.
MIN_MASS_KG = 500.0
MAX_MASS_KG = 4_000.0


@dataclass(frozen=True)
class VehicleMass:
    """The mass the models use, its relative (log) standard deviation and where it came from."""

    mass_kg: float
    rel_sd: float
    source: str  # "registered", "body_type" or "unknown"


def vehicle_mass(
    *, registered_kg: float | None, body_type: str | None, fuel_type: str = "petrol"
) -> VehicleMass:
    """The mass to model a vehicle with, from what its registration says.

    A registered mass wins; else the body type's class default (an unknown body type name is
    treated as none); else ``UNKNOWN``'s. Class defaults are scaled by the powertrain's battery
    (``POWERTRAIN_FACTOR``); a registered mass is taken as the car's own.
    """
    if registered_kg is not None and registered_kg > 0:
        return VehicleMass(float(registered_kg), REGISTERED_REL_SD, "registered")
    body = BODY_CLASSES.get(body_type or "")
    source = "body_type" if body is not None else "unknown"
    cls = body if body is not None else UNKNOWN
    factor = POWERTRAIN_FACTOR.get(fuel_type, 1.0)
    return VehicleMass(round(cls.default_kg * factor, -1), cls.rel_sd, source)


def combined_rel_sd(*rel_sds: float) -> float:
    """Relative spreads of independent factors of a product, added in quadrature (log-sd)."""
    return math.sqrt(sum(s * s for s in rel_sds))
