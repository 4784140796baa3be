# SPDX-License-Identifier: MIT
"""Nearest capable shop by great-circle distance.

There is no PostGIS here, so the haversine formula runs in plain SQL over the shops table.
That is a sequential scan, fine for thousands of shops; a bounding-box prefilter on indexed
lat/lon (or PostGIS with a GiST index) is the step when the directory grows past that.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)

# least(1, ...) because rounding can push the argument a hair past 1 for antipodal points,
# and asin outside [-1, 1] is an error in SQL rather than a NaN.
HAVERSINE_KM_SQL = (
    f"2 * {EARTH_RADIUS_KM} * asin(least(1.0, sqrt("
    "power(sin(radians(lat - %(lat)s) / 2), 2) + "
    "cos(radians(%(lat)s)) * cos(radians(lat)) * power(sin(radians(lon - %(lon)s) / 2), 2))))"
)


@dataclass(frozen=True)
class ShopMatch:
    """A shop and how far it is from the vehicle."""

    shop_id: int
    name: str
    distance_km: float


def nearest_shops(
    *, conn: psycopg.Connection, lat: float, lon: float, capability: str, limit: int = 1
) -> list[ShopMatch]:
    """Shops with ``capability`` ordered by distance from (lat, lon), nearest first."""
    rows = conn.execute(
        f"SELECT shop_id, name, {HAVERSINE_KM_SQL} AS distance_km FROM shops "
        "WHERE %(capability)s = ANY(capabilities) ORDER BY distance_km, shop_id LIMIT %(limit)s",
        {"lat": lat, "lon": lon, "capability": capability, "limit": limit},
    ).fetchall()
    return [ShopMatch(int(r[0]), r[1], float(r[2])) for r in rows]


def nearest_shop(
    *, conn: psycopg.Connection, lat: float, lon: float, capability: str
) -> ShopMatch | None:
    """The nearest shop with ``capability``, or None if no shop offers it."""
    found = nearest_shops(conn=conn, lat=lat, lon=lon, capability=capability, limit=1)
    return found[0] if found else None
