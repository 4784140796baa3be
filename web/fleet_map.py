# SPDX-License-Identifier: MIT
"""The fleet's map: where each vehicle is based, coloured by its worst part, and the repair
shops around them, drawn as inline SVG on the server.

Positions are the vehicles' home locations (``vehicles.home_lat/home_lon``, what matching
uses to find shops): the dongles read OBD-II, which carries no GPS, so a "last position" is
not something we have, and the page says so. There are no map tiles: a tile server is a
third party that would learn where every vehicle of the fleet lives, and tiles would need the
internet. Orientation comes from the nearest towns (the GeoNames extract ``orders.cities``
already ships) and a scale bar, on an equirectangular projection centred on the fleet, which
is exact enough at the scale of a city or a region. Drawing a few hundred points and labels is
a dozen lines of geometry; a mapping library would bring tiles or a JavaScript bundle.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import psycopg

from db.rows import dicts
from orders.cities import KM_PER_DEG_LAT, cities
from web.fleet import Row

# The drawing's size in SVG units; it scales to the page's width.
WIDTH = 960.0
HEIGHT = 600.0
MARGIN = 40.0
# Shops this far beyond the fleet's extent are still drawn; at most MAX_SHOPS, nearest first.
SHOP_MARGIN_KM = 15.0
MAX_SHOPS = 150
# Towns named for orientation: the biggest few inside the drawing.
MAX_TOWNS = 8
MIN_TOWN_POPULATION = 15000
# The smallest extent drawn: one vehicle alone still shows its neighbourhood.
MIN_SPAN_KM = 10.0
# The worst of a vehicle's parts decides its colour; the words come from the template.
TIER_RANK = {"change_now": 0, "due_soon": 1, "good": 2}
SCALE_STEPS_KM = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


@dataclass(frozen=True, slots=True)
class Point:
    """Something drawn on the map, already projected to the drawing."""

    x: float
    y: float
    label: str
    ref: int  # the vehicle or shop id
    tier: str | None = None  # vehicles: the worst of oil and pads, or None if not known


@dataclass(frozen=True, slots=True)
class FleetMap:
    """The drawing: vehicles, shops, towns, a scale bar; and the vehicles with no home."""

    vehicles: list[Point]
    shops: list[Point]
    towns: list[Point]
    scale_km: int
    scale_px: float
    unplaced: int
    width: float = WIDTH
    height: float = HEIGHT


@dataclass(frozen=True, slots=True)
class _Projection:
    lat0: float
    lon0: float
    px_per_km: float

    def __call__(self, lat: float, lon: float) -> tuple[float, float]:
        x_km = (lon - self.lon0) * KM_PER_DEG_LAT * math.cos(math.radians(self.lat0))
        y_km = (lat - self.lat0) * KM_PER_DEG_LAT
        return WIDTH / 2 + x_km * self.px_per_km, HEIGHT / 2 - y_km * self.px_per_km


def worst_tier(row: Row) -> str | None:
    """The worse of the oil's and the pads' tiers."""
    tiers = [t for t in (row.oil_tier, row.pads_tier) if t is not None]
    return min(tiers, key=lambda t: TIER_RANK.get(t, len(TIER_RANK))) if tiers else None


def homes(conn: psycopg.Connection, fleet_id: int) -> dict[int, tuple[float, float]]:
    """Vehicle id → its home (lat, lon), for the fleet's vehicles that have one."""
    found = dicts(
        conn,
        "SELECT vehicle_id, home_lat, home_lon FROM vehicles "
        "WHERE fleet_id = %s AND home_lat IS NOT NULL AND home_lon IS NOT NULL",
        (fleet_id,),
    )
    return {r["vehicle_id"]: (r["home_lat"], r["home_lon"]) for r in found}


def _shops_near(
    conn: psycopg.Connection, south: float, west: float, north: float, east: float
) -> list[dict]:
    lat_pad = SHOP_MARGIN_KM / KM_PER_DEG_LAT
    lon_pad = lat_pad / max(0.1, math.cos(math.radians((south + north) / 2)))
    centre_lat, centre_lon = (south + north) / 2, (west + east) / 2
    return dicts(
        conn,
        "SELECT shop_id, name, lat, lon FROM shops "
        "WHERE lat BETWEEN %(s)s AND %(n)s AND lon BETWEEN %(w)s AND %(e)s "
        "ORDER BY (lat - %(clat)s) ^ 2 + (lon - %(clon)s) ^ 2, shop_id LIMIT %(limit)s",
        {
            "s": south - lat_pad,
            "n": north + lat_pad,
            "w": west - lon_pad,
            "e": east + lon_pad,
            "clat": centre_lat,
            "clon": centre_lon,
            "limit": MAX_SHOPS,
        },
    )


def _projection(points: Iterable[tuple[float, float]]) -> _Projection:
    lats, lons = zip(*points, strict=True)
    lat0 = (min(lats) + max(lats)) / 2
    lon0 = (min(lons) + max(lons)) / 2
    km_x = (max(lons) - min(lons)) * KM_PER_DEG_LAT * math.cos(math.radians(lat0))
    km_y = (max(lats) - min(lats)) * KM_PER_DEG_LAT
    span_x = max(km_x, MIN_SPAN_KM)
    span_y = max(km_y, MIN_SPAN_KM)
    px_per_km = min((WIDTH - 2 * MARGIN) / span_x, (HEIGHT - 2 * MARGIN) / span_y)
    return _Projection(lat0, lon0, px_per_km)


def _scale(px_per_km: float) -> tuple[int, float]:
    """The longest round distance whose bar fits in a fifth of the drawing."""
    fitting = [km for km in SCALE_STEPS_KM if km * px_per_km <= WIDTH / 5]
    km = fitting[-1] if fitting else SCALE_STEPS_KM[0]
    return km, km * px_per_km


def _inside(x: float, y: float) -> bool:
    return 0 <= x <= WIDTH and 0 <= y <= HEIGHT


def _towns(project: _Projection) -> list[Point]:
    """The biggest towns inside the drawing, for orientation."""
    half_lat = (HEIGHT / 2) / project.px_per_km / KM_PER_DEG_LAT
    half_lon = (
        (WIDTH / 2)
        / project.px_per_km
        / (KM_PER_DEG_LAT * max(0.1, math.cos(math.radians(project.lat0))))
    )
    near = [
        c
        for c in cities(MIN_TOWN_POPULATION)
        if abs(c["lat"] - project.lat0) <= half_lat and abs(c["lon"] - project.lon0) <= half_lon
    ]
    towns = []
    for i, city in enumerate(sorted(near, key=lambda c: -c["population"])):
        x, y = project(city["lat"], city["lon"])
        if MARGIN / 2 <= x <= WIDTH - MARGIN / 2 and MARGIN / 2 <= y <= HEIGHT - MARGIN / 2:
            towns.append(Point(x, y, city["name"], i))
            if len(towns) == MAX_TOWNS:
                break
    return towns


def fleet_map(*, conn: psycopg.Connection, fleet_id: int, rows: list[Row]) -> FleetMap | None:
    """The fleet's map, or None when no vehicle of it has a home to draw."""
    placed = homes(conn, fleet_id)
    here = [r for r in rows if r.vehicle.vehicle_id in placed]
    if not here:
        return None
    fleet_points = [placed[r.vehicle.vehicle_id] for r in here]
    project = _projection(fleet_points)
    lats = [lat for lat, _ in fleet_points]
    lons = [lon for _, lon in fleet_points]
    shops = []
    for s in _shops_near(conn, min(lats), min(lons), max(lats), max(lons)):
        x, y = project(s["lat"], s["lon"])
        if _inside(x, y):
            shops.append(Point(x, y, s["name"], s["shop_id"]))
    vehicles = []
    for r in here:
        x, y = project(*placed[r.vehicle.vehicle_id])
        vehicles.append(Point(x, y, r.name or r.vehicle.vin, r.vehicle.vehicle_id, worst_tier(r)))
    # Worst last, so it is drawn on top of the others.
    vehicles.sort(key=lambda p: -TIER_RANK.get(p.tier or "", len(TIER_RANK)))
    towns = _towns(project)
    scale_km, scale_px = _scale(project.px_per_km)
    return FleetMap(
        vehicles=vehicles,
        shops=shops,
        towns=towns,
        scale_km=scale_km,
        scale_px=scale_px,
        unplaced=len(rows) - len(here),
    )
