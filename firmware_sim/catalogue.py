# SPDX-License-Identifier: MIT
"""Where the simulated cars live and what they are: real cities, plausible models.

Chicago comes first and is the most common home because the CMAP recordings the simulator
replays were driven there. Climate figures are annual mean air temperature and the
half-range between the coldest and warmest monthly means (rounded NOAA/WMO normals).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from firmware_sim.vehicle_data import Kind, VehicleSpec
from firmware_sim.vin import make_vin


@dataclass(frozen=True)
class City:
    """A home location with its climate."""

    name: str
    lat: float
    lon: float
    mean_c: float
    swing_c: float
    weight: float  # share of the fleet living here


CITIES: tuple[City, ...] = (
    City("Chicago", 41.8781, -87.6298, 10.5, 14.0, 0.55),
    City("Milwaukee", 43.0389, -87.9065, 9.0, 14.5, 0.10),
    City("Detroit", 42.3314, -83.0458, 10.0, 13.5, 0.10),
    City("Minneapolis", 44.9778, -93.2650, 7.5, 17.0, 0.07),
    City("St. Louis", 38.6270, -90.1994, 13.5, 13.5, 0.07),
    City("Houston", 29.7604, -95.3698, 21.0, 8.5, 0.06),
    City("Phoenix", 33.4484, -112.0740, 24.0, 10.5, 0.05),
)


@dataclass(frozen=True)
class CarModel:
    """One model line: its maker's WMI, fuel type and physical parameters."""

    make: str
    model: str
    kind: Kind
    wmi: str
    mass_kg: tuple[float, float]
    peak_torque_nm: float
    years: tuple[int, int]


MODELS: tuple[CarModel, ...] = (
    CarModel("Ford", "Focus", "petrol", "1FA", (1250, 1400), 200, (2012, 2018)),
    CarModel("Chevrolet", "Malibu", "petrol", "1G1", (1400, 1550), 260, (2014, 2023)),
    CarModel("Honda", "Civic", "petrol", "2HG", (1250, 1350), 190, (2006, 2023)),
    CarModel("Toyota", "Camry", "petrol", "4T1", (1450, 1600), 250, (2005, 2024)),
    CarModel("Ford", "F-150", "petrol", "1FT", (2000, 2400), 500, (2010, 2024)),
    CarModel("Volkswagen", "Jetta TDI", "diesel", "3VW", (1400, 1550), 320, (2010, 2015)),
    CarModel("Ram", "1500 EcoDiesel", "diesel", "1C6", (2300, 2600), 570, (2014, 2023)),
    CarModel("Ford", "Transit", "diesel", "1FT", (2100, 2500), 470, (2015, 2023)),
    CarModel("Toyota", "Prius", "hybrid", "JTD", (1350, 1450), 142, (2010, 2024)),
    CarModel("Honda", "Accord Hybrid", "hybrid", "1HG", (1500, 1650), 175, (2017, 2024)),
    CarModel("Tesla", "Model 3", "electric", "5YJ", (1750, 1850), 420, (2018, 2024)),
    CarModel("Chevrolet", "Bolt EV", "electric", "1G1", (1600, 1700), 360, (2017, 2023)),
)
# Share of each fuel type in a simulated fleet.
KIND_WEIGHTS: dict[str, float] = {"petrol": 0.55, "diesel": 0.20, "hybrid": 0.15, "electric": 0.10}
# ELM protocol numbers: almost all cars since 2008 are on CAN 11-bit; some on 29-bit; older
# Asian and European cars on ISO 9141-2.
LEGACY_BEFORE_YEAR = 2008


def pick_city(rng: np.random.Generator) -> City:
    """A home city, weighted by the fleet's distribution."""
    w = np.array([c.weight for c in CITIES])
    return CITIES[int(rng.choice(len(CITIES), p=w / w.sum()))]


def pick_model(rng: np.random.Generator, kind: Kind | None = None) -> CarModel:
    """A model line, of ``kind`` if given, else of a kind drawn from KIND_WEIGHTS."""
    if kind is None:
        kinds = list(KIND_WEIGHTS)
        w = np.array(list(KIND_WEIGHTS.values()))
        kind = kinds[int(rng.choice(len(kinds), p=w / w.sum()))]  # type: ignore[assignment]
    options = [m for m in MODELS if m.kind == kind]
    return options[int(rng.integers(len(options)))]


def make_spec(
    rng: np.random.Generator, *, kind: Kind | None = None, city: City | None = None
) -> VehicleSpec:
    """A random but plausible vehicle with wear already on it, drawn from ``rng``."""
    m = pick_model(rng, kind)
    home = city or pick_city(rng)
    year = int(rng.integers(m.years[0], m.years[1] + 1))
    diesel = m.kind == "diesel"
    if year < LEGACY_BEFORE_YEAR:
        protocol = "3" if rng.random() < 0.5 else "6"
    else:
        protocol = "7" if rng.random() < 0.15 else "6"
    vin = make_vin(rng, wmi=m.wmi, model_year=year)
    cal = f"{m.make[:2].upper()}{year % 100:02d}{vin[-6:]}{int(rng.integers(1000)):03d}"
    age_y = max(2025 - year, 0)
    return VehicleSpec(
        vin=vin,
        kind=m.kind,
        make=m.make,
        model=m.model,
        model_year=year,
        mass_kg=float(rng.uniform(*m.mass_kg)),
        idle_rpm=800.0 if diesel else 750.0,
        upshift_rpm=1500.0 if diesel else 1700.0,
        peak_torque_nm=float(m.peak_torque_nm),
        cda_m2=0.95 if m.mass_kg[0] > 1900 else 0.68,
        supports_odometer_pid=bool(year >= 2019 or rng.random() < 0.3),
        initial_odometer_km=float(rng.uniform(3_000, 18_000) * max(age_y, 0.5)),
        initial_oil_life_pct=float(rng.uniform(40, 100)),
        initial_pad_front_mm=float(rng.uniform(5, 12)),
        initial_pad_rear_mm=float(rng.uniform(6, 12)),
        initial_battery_health_pct=float(rng.uniform(70, 100)),
        ambient_c=home.mean_c,
        ambient_swing_c=home.swing_c,
        protocol=protocol,
        has_transmission_ecu=bool(rng.random() < 0.6),
        calibration_id=cal,
        home_city=home.name,
        home_lat=home.lat,
        home_lon=home.lon,
    )
