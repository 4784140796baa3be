# SPDX-License-Identifier: MIT
"""Wear truths the models never saw, each written from the lubrication and braking
literature rather than from the simulator's built-in wear or the predictive models.

Plug one in with ``wrenchlight predictive train|evaluate --truth
firmware_sim.truth_variants:NAME``; ``VARIANTS`` lists them by name. Every hidden quantity
is drawn from the vehicle's seed (and the trip's rank or the fill's number), so a fleet
seed gives the same truth on every run.

Common ground (``LiteratureOil``: ``oil_stress`` and ``archard_mm``):

- Oil: its additive package is consumed by the combustion products that blow past the rings
  (acids, soot, NOx), which scale with the fuel burned; the Willans line makes fuel per
  revolution an offset (friction and pumping) plus a part proportional to load. The oxidation
  of the base oil follows the Arrhenius rule of lubricant chemistry, the rate doubling about
  every 10 K (the "10-degree rule" of lubrication handbooks and Noria's Machinery Lubrication
  articles on oxidation, from Arrhenius kinetics), with a floor below
  ~80 °C where contamination, not oxidation, dominates. One log-normal factor per engine
  (ring wear, tolerances). This is neither the simulator's revolution weighting nor its
  cold-start charge.
- Pads: Archard's law (wear volume ∝ friction work), per-axle coefficients per vehicle, no
  temperature term (``GRADE_AND_HOT_PADS`` has one of its own).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from firmware_sim import physics
from firmware_sim.wear_truth import FloatArray, OilFill, TripDose, TripPhysics

# Calibrated so the fleet's mean oil use per km is the simulator's own (~10.6 points per
# 1,000 km over 20 cars and 90 days, seed 0): the variants change the shape, not the scale.
OIL_BUDGET = 7.5e6  # Willans- and Arrhenius-weighted revolutions per oil life
WILLANS_OFFSET = 0.3  # fuel per revolution at zero load, as a share of full load's
ARRHENIUS_REF_C = 100.0
ARRHENIUS_DOUBLING_K = 10.0
ARRHENIUS_FLOOR = 0.3
ARRHENIUS_CAP = 8.0
ENGINE_SIGMA = 0.12
PAD_FRONT_MM_PER_MJ = 0.0026
PAD_REAR_MM_PER_MJ = 0.0034
PAD_SIGMA = 0.15


def _rng(seed: int, *salt: int) -> np.random.Generator:
    return np.random.default_rng([seed, 0x7A17, *salt])


def _lognormal(seed: int, salt: int, sigma: float) -> float:
    return float(_rng(seed, salt).lognormal(0.0, sigma))


def oil_stress(trip: TripPhysics) -> float:
    """Willans- and Arrhenius-weighted revolutions of one trip (see the module docstring)."""
    if not trip.has_engine:
        return 0.0
    fuel_per_rev = WILLANS_OFFSET + trip.engine_load_pct / 100.0
    arrhenius = np.clip(
        np.exp2((trip.oil_temp_c - ARRHENIUS_REF_C) / ARRHENIUS_DOUBLING_K),
        ARRHENIUS_FLOOR,
        ARRHENIUS_CAP,
    )
    return float((trip.revolutions() * fuel_per_rev * arrhenius).sum())


def archard_mm(
    trip: TripPhysics,
    front_share: float,
    front_mm_per_mj: float,
    rear_mm_per_mj: float,
    mass_kg: float | None = None,
) -> tuple[float, float]:
    """Front and rear pad wear by Archard's law for this brake balance and mass."""
    mj = float((trip.friction_w(mass_kg) * trip.dt_s).sum()) / 1e6
    return front_share * mj * front_mm_per_mj, (1.0 - front_share) * mj * rear_mm_per_mj


@dataclass
class LiteratureOil:
    """Oil life as the literature's base (module docstring), linear in its stress; pads by
    Archard with a 70/30 split. The base the other variants change one thing of."""

    name: str = "literature_linear"
    front_share: float = 0.7

    def engine_factor(self, trip: TripPhysics) -> float:
        return _lognormal(trip.vehicle_seed, 1, ENGINE_SIGMA)

    def oil_dose(self, trip: TripPhysics) -> float:
        """Points of life the trip uses on fresh oil."""
        return oil_stress(trip) * self.engine_factor(trip) / OIL_BUDGET * 100.0

    def pads(self, trip: TripPhysics) -> tuple[float, float]:
        front = PAD_FRONT_MM_PER_MJ * _lognormal(trip.vehicle_seed, 2, PAD_SIGMA)
        rear = PAD_REAR_MM_PER_MJ * _lognormal(trip.vehicle_seed, 3, PAD_SIGMA)
        return archard_mm(trip, self.front_share, front, rear)

    def trip(self, trip: TripPhysics) -> TripDose:
        return TripDose((self.oil_dose(trip),), *self.pads(trip))

    def oil_consumed_pct(self, fill: OilFill) -> FloatArray:
        return np.cumsum(fill.dose)


@dataclass
class AcceleratingOil(LiteratureOil):
    """(a) Ageing that accelerates toward the end of life.

    Antioxidants are sacrificed first: while they last the base oil barely oxidises (the
    "induction period" of oxidation tests such as ASTM D943 and RPVOT, ASTM D2272); once
    they are depleted oxidation becomes autocatalytic, viscosity and acidity climb and the
    oil fails faster and faster. Modelled as life used = 100·(s/100)^p on the fill's
    accumulated stress s (in points), p = ``exponent`` > 1: the same stress costs more
    life the less is left, and the end of life comes at the same stress as a linear oil's.
    """

    name: str = "accelerating_oil"
    exponent: float = 1.6

    def oil_consumed_pct(self, fill: OilFill) -> FloatArray:
        s = np.maximum(np.cumsum(fill.dose), 0.0)
        return 100.0 * (s / 100.0) ** self.exponent


@dataclass
class BrandsAndDrift(LiteratureOil):
    """(b) Each fill is a different oil, and the engine changes over its life.

    Oils meeting the same viscosity grade differ several-fold in oxidation stability and
    base-number reserve (mineral against synthetic base stocks, API SN against SP additive
    packages), so a workshop's oil at one change need not be the last one's: a log-normal
    factor per fill, drawn from (vehicle, fill number). Engines drift: ring and bore wear
    raise blow-by over the life, and driving and fuel quality change with the seasons; a
    log-space random walk stepping every ``drift_days`` days, with a slow upward trend.
    """

    name: str = "brands_and_drift"
    fill_sigma: float = 0.2
    drift_days: float = 91.0
    drift_sigma: float = 0.1
    trend_per_year: float = 0.04
    _walks: dict[int, FloatArray] = field(default_factory=dict, repr=False)

    def drift(self, seed: int, day: float) -> float:
        """The engine's factor on ``day`` (days since enrollment)."""
        walk = self._walks.get(seed)
        if walk is None:
            steps = _rng(seed, 4).normal(0.0, self.drift_sigma, 64)
            walk = self._walks[seed] = np.concatenate(([0.0], np.cumsum(steps)))
        k = min(int(max(day, 0.0) // self.drift_days), walk.size - 1)
        return math.exp(float(walk[k]) + self.trend_per_year * k * self.drift_days / 365.0)

    def oil_dose(self, trip: TripPhysics) -> float:
        return super().oil_dose(trip) * self.drift(trip.vehicle_seed, trip.day)

    def fill_factor(self, seed: int, number: int) -> float:
        """The oil of fill ``number``: its stress per point of life."""
        return float(_rng(seed, 5, number).lognormal(0.0, self.fill_sigma))

    def oil_consumed_pct(self, fill: OilFill) -> FloatArray:
        return np.cumsum(fill.dose) * self.fill_factor(fill.vehicle_seed, fill.number)


@dataclass
class MassAndSplit(LiteratureOil):
    """(f) A brake balance other than 70/30 and a mass nobody registered.

    Front axles take 60-80 % of braking depending on the car's weight distribution and the
    proportioning its maker chose (Limpert, "Brake Design and Safety", SAE); the mass on
    the road is the registered mass plus occupants and cargo, ±20 % for the same model (a
    lone commuter against a family on holiday, a trade van's load). Both are drawn per
    vehicle and hidden; the friction work is recomputed with the true mass.
    """

    name: str = "mass_and_split"
    split_range: tuple[float, float] = (0.6, 0.8)
    mass_range: tuple[float, float] = (0.8, 1.2)

    def hidden(self, seed: int) -> tuple[float, float]:
        """(front share, true mass over registered mass) of the vehicle."""
        rng = _rng(seed, 6)
        return float(rng.uniform(*self.split_range)), float(rng.uniform(*self.mass_range))

    def pads(self, trip: TripPhysics) -> tuple[float, float]:
        share, mass_factor = self.hidden(trip.vehicle_seed)
        front = PAD_FRONT_MM_PER_MJ * _lognormal(trip.vehicle_seed, 2, PAD_SIGMA)
        rear = PAD_REAR_MM_PER_MJ * _lognormal(trip.vehicle_seed, 3, PAD_SIGMA)
        return archard_mm(trip, share, front, rear, trip.mass_kg * mass_factor)


@dataclass
class FuelDilution(LiteratureOil):
    """(c) Fuel dilution from short trips and cold starts.

    A cold engine is run rich and its cylinder walls are cold, so unburnt fuel washes past the
    rings into the sump, most at cold starts and while the oil is below ~60 °C; it boils off
    again once the oil runs above ~80-90 °C for a while, so short trips accumulate it and long
    ones clear it (studied for port- and direct-injection petrol and diesel engines, e.g. SAE
    papers on fuel dilution in short-trip service). Diluted oil is thinner and its film
    weaker, so it wears (and is consumed) faster; labs condemn oil at ~5 % fuel. Per trip:
    ``oil[1]`` fuel added (% of the sump), ``oil[2]`` the share of the sump's fuel that boiled
    off; per fill, the dilution D is carried trip to trip and each trip's stress costs
    (1 + ``thinning``·D) as much life.
    """

    name: str = "fuel_dilution"
    start_pct: float = 0.08  # fuel per start at 0 °C oil, % of the sump
    cold_pct_per_h: float = 0.6  # while the oil is below COLD_C
    cold_c: float = 60.0
    boil_c: float = 85.0
    boil_tau_h: float = 0.75  # time constant of evaporation above BOIL_C
    thinning: float = 0.25  # extra wear per % of fuel

    def trip(self, trip: TripPhysics) -> TripDose:
        added = boiled = 0.0
        if trip.has_engine and trip.t_s.size:
            temp, hours = trip.oil_temp_c, trip.dt_s / 3600.0
            coldness = min(max((self.cold_c - float(temp[0])) / self.cold_c, 0.0), 1.5)
            cold_h = float(hours[temp < self.cold_c].sum())
            added = self.start_pct * coldness + self.cold_pct_per_h * cold_h
            hot_h = float(hours[temp > self.boil_c].sum())
            boiled = 1.0 - math.exp(-hot_h / self.boil_tau_h)
        return TripDose((self.oil_dose(trip), added, boiled), *self.pads(trip))

    def dilution(self, fill: OilFill) -> FloatArray:
        """Fuel in the sump (% of the oil) after each trip of the fill, from none."""
        out, d = np.empty(fill.dose.size), 0.0
        for i, (added, boiled) in enumerate(fill.oil[:, 1:3].tolist()):
            d = (d + added) * (1.0 - boiled)
            out[i] = d
        return out

    def oil_consumed_pct(self, fill: OilFill) -> FloatArray:
        d = self.dilution(fill)
        before = np.concatenate(([0.0], d[:-1]))  # the trip ran on the oil as it was
        return np.cumsum(fill.dose * (1.0 + self.thinning * 0.5 * (before + d)))


@dataclass
class CalendarOxidation(LiteratureOil):
    """(d) Oil ages in the sump with time, driven or not.

    Oxygen and moisture reach the oil through the breather, condensation collects on cold
    nights and acids form whether or not the car is driven, which is why makers set a time
    limit beside the distance one (typically 12-24 months, e.g. ACEA and makers' service
    schedules) and why used-oil labs see base number fall in cars that sit. Modelled as a
    constant calendar charge per day in the sump (a per-vehicle climate and storage factor)
    beside a smaller driving term, so low-mileage cars run out by the calendar.
    """

    name: str = "calendar_oxidation"
    life_days: float = 540.0  # a parked car's oil is spent after ~18 months
    driving_share: float = 0.8  # the literature base, scaled down by this much

    def oil_dose(self, trip: TripPhysics) -> float:
        return super().oil_dose(trip) * self.driving_share

    def oil_consumed_pct(self, fill: OilFill) -> FloatArray:
        climate = _lognormal(fill.vehicle_seed, 7, 0.2)
        calendar = (fill.day - fill.start_day) * climate * 100.0 / self.life_days
        return np.cumsum(fill.dose) + calendar


@dataclass
class GradeAndHotPads(LiteratureOil):
    """(e) Hills and a pad compound whose wear rises steeply with temperature.

    Descents are braked: a 1,400 kg car coming down 50 m sheds ~0.7 MJ into its brakes that
    no speed trace shows. Each car's home terrain gets a hidden hilliness (a grade standard
    deviation of 0.5-5 %), each trip a smooth random grade profile (an AR(1) process over
    ~``grade_corr_s`` seconds) with its own seed; the friction work is recomputed with it.
    Pad wear per joule of organic and semi-metallic pads is flat when cool and rises
    exponentially once the interface passes ~200 °C as the resin binder decomposes (Rhee's
    wear studies of friction materials, Wear 1970s; Archard with an Arrhenius-type factor):
    factor 1 + exp((T - ``onset_c``)/``scale_k``), capped at ``cap``, on the simulator's
    lumped disc temperature for the hill-laden power.
    """

    name: str = "grade_and_hot_pads"
    # Cool-pad wear per joule relative to ``archard_mm``'s: with the hills and the hot term
    # the fleet's mean pad wear per km comes out near the simulator's own (seed 0, 20 cars).
    cool_scale: float = 0.55
    hilliness_range: tuple[float, float] = (0.005, 0.05)
    grade_corr_s: float = 60.0
    onset_c: float = 200.0
    scale_k: float = 45.0
    cap: float = 12.0

    def grade_rad(self, trip: TripPhysics) -> FloatArray:
        """The trip's hidden road grade per step."""
        hilly = float(_rng(trip.vehicle_seed, 8).uniform(*self.hilliness_range))
        noise = _rng(trip.vehicle_seed, 9, trip.trip_index).normal(0.0, 1.0, trip.t_s.size)
        if not noise.size:
            return noise
        a = math.exp(-1.0 / self.grade_corr_s)
        seg = physics.Segments(np.array([noise.size]))
        # Unit-variance AR(1): level[k] = a·level[k-1] + sqrt(1 - a²)·noise[k], from 0.
        level = physics.linear_recurrence(
            np.full(noise.size, a), math.sqrt(1.0 - a * a) * noise, seg, np.zeros(1)
        )
        return np.arctan(hilly * level)

    def temperature_factor(self, disc_c: FloatArray) -> FloatArray:
        """Wear per joule at this interface temperature, relative to a cool pad."""
        over = np.minimum((disc_c - self.onset_c) / self.scale_k, math.log(self.cap))
        return np.minimum(1.0 + np.exp(over), self.cap)

    def pads(self, trip: TripPhysics) -> tuple[float, float]:
        power = trip.friction_w(grade_rad=self.grade_rad(trip))
        worn = []
        for front, share, k, salt in (
            (True, self.front_share, PAD_FRONT_MM_PER_MJ, 2),
            (False, 1.0 - self.front_share, PAD_REAR_MM_PER_MJ, 3),
        ):
            p = power * share
            factor = self.temperature_factor(trip.disc_c(p, front=front))
            mj = float((p * factor * trip.dt_s).sum()) / 1e6
            worn.append(mj * k * self.cool_scale * _lognormal(trip.vehicle_seed, salt, PAD_SIGMA))
        return worn[0], worn[1]


ACCELERATING_OIL = AcceleratingOil()
BRANDS_AND_DRIFT = BrandsAndDrift()
MASS_AND_SPLIT = MassAndSplit()
FUEL_DILUTION = FuelDilution()
CALENDAR_OXIDATION = CalendarOxidation()
GRADE_AND_HOT_PADS = GradeAndHotPads()
VARIANTS = {
    v.name: v
    for v in (
        ACCELERATING_OIL,
        BRANDS_AND_DRIFT,
        MASS_AND_SPLIT,
        FUEL_DILUTION,
        CALENDAR_OXIDATION,
        GRADE_AND_HOT_PADS,
    )
}
