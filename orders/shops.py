# SPDX-License-Identifier: MIT
"""A plausible shop directory around a centre, for demos and tests.

The directory is deterministic in (centre, count, seed), and seeding twice adds nothing: a shop
already present with the same name and position is left alone.
"""

from __future__ import annotations

import math
import random
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from db.rows import scalar

CAPABILITIES = ("oil_change", "brake_pads", "diagnostics", "tyres")
# Chance that a shop offers each capability; most garages change oil, fewer fit tyres.
CAPABILITY_ODDS = {"oil_change": 0.85, "brake_pads": 0.7, "diagnostics": 0.6, "tyres": 0.5}
# Shops spread uniformly over a disc of this radius: a city and its suburbs.
RADIUS_KM = 15.0
KM_PER_DEG_LAT = 111.32

_FAMILY = (
    "Abbott",
    "Becker",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ito",
    "Jansen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
)
_KIND = ("Auto Service", "Garage", "Motor Works", "Car Care", "Autohaus", "Service Centre")
_STREET = (
    "Mill Road",
    "Station Street",
    "Harbour Way",
    "Elm Avenue",
    "Bridge Street",
    "Market Lane",
    "Church Road",
    "Park Avenue",
    "Canal Street",
    "Hill Road",
)
# Lunch-free weekday hours; some shops open Saturday morning, none on Sunday.
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
_OPENS = ("07:30", "08:00", "08:30")
_CLOSES = ("17:00", "17:30", "18:00", "19:00")


def _hours(rng: random.Random) -> dict[str, Any]:
    day = [[rng.choice(_OPENS), rng.choice(_CLOSES)]]
    hours: dict[str, Any] = {d: day for d in _WEEKDAYS}
    hours["sat"] = [["09:00", "13:00"]] if rng.random() < 0.5 else []
    hours["sun"] = []
    return hours


def _position(rng: random.Random, lat: float, lon: float) -> tuple[float, float]:
    # sqrt(u) makes the density uniform over the disc rather than crowded at the centre.
    r_km = RADIUS_KM * math.sqrt(rng.random())
    bearing = rng.uniform(0.0, 2 * math.pi)
    dlat = r_km * math.cos(bearing) / KM_PER_DEG_LAT
    dlon = r_km * math.sin(bearing) / (KM_PER_DEG_LAT * max(math.cos(math.radians(lat)), 1e-6))
    return round(lat + dlat, 6), round((lon + dlon + 180.0) % 360.0 - 180.0, 6)


def generate_shops(
    *, center_lat: float, center_lon: float, count: int = 12, seed: int = 0
) -> list[dict[str, Any]]:
    """The shops ``seed_shops`` would insert, as plain dicts."""
    rng = random.Random(seed)
    shops = []
    for i in range(count):
        caps = [c for c in CAPABILITIES if rng.random() < CAPABILITY_ODDS[c]]
        if not caps:  # a garage that does nothing is no garage
            caps = ["oil_change"]
        lat, lon = _position(rng, center_lat, center_lon)
        shops.append(
            {
                "name": f"{_FAMILY[(seed + i) % len(_FAMILY)]} {rng.choice(_KIND)}",
                "address": f"{rng.randint(1, 240)} {rng.choice(_STREET)}",
                # 555-01xx numbers are reserved for fiction, so a demo never rings a real person.
                "phone": f"+1 555-01{i % 100:02d}",
                "lat": lat,
                "lon": lon,
                "capabilities": caps,
                "hours": _hours(rng),
            }
        )
    return shops


def seed_shops(
    *,
    conn: psycopg.Connection,
    center_lat: float,
    center_lon: float,
    count: int = 12,
    seed: int = 0,
) -> list[int]:
    """Insert a directory of ``count`` shops around a centre (idempotent); return their ids."""
    ids = []
    with conn.transaction():
        # Two seeders at once would both see "absent" and insert twice.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('wl_seed_shops'))")
        for shop in generate_shops(
            center_lat=center_lat, center_lon=center_lon, count=count, seed=seed
        ):
            shop_id = scalar(
                conn,
                "SELECT shop_id FROM shops WHERE name = %(name)s AND lat = %(lat)s "
                "AND lon = %(lon)s",
                shop,
            )
            if shop_id is None:
                shop_id = scalar(
                    conn,
                    "INSERT INTO shops (name, address, phone, lat, lon, capabilities, hours) "
                    "VALUES (%(name)s, %(address)s, %(phone)s, %(lat)s, %(lon)s, "
                    "%(capabilities)s, %(hours)s) RETURNING shop_id",
                    {**shop, "hours": Jsonb(shop["hours"])},
                )
            assert shop_id is not None
            ids.append(int(shop_id))
    return ids
