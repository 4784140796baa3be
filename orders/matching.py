# SPDX-License-Identifier: MIT
"""Matching orders to shops.

``nearest_shop(s)``: the nearest capable shop by great-circle distance, haversine in plain SQL
over the whole table (the first proposal of a new order). ``match_shops``: candidates through
the geographic index, filtered by capability and a free slot before the due date, scored by
distance, quality, response speed, price and capacity (``scoring.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from db.rows import dicts
from orders.scoring import Candidate, MatchWeights, score

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)


# Shops offered orders: verified by the platform (shops that applied by themselves wait for an
# admin; imported and admin-made ones are verified as they are inserted) and not suspended.
def offered(alias: str | None = None) -> sql.Composable:
    """SQL: the shop (of table alias ``alias``, or unqualified) is offered orders."""

    def column(name: str) -> sql.Identifier:
        return sql.Identifier(alias, name) if alias else sql.Identifier(name)

    return sql.SQL("{} IS NOT NULL AND {} <> 'suspended'").format(
        column("verified_at"), column("verification")
    )


# least(1, ...) because rounding can push the argument a hair past 1 for antipodal points,
# and asin outside [-1, 1] is an error in SQL rather than a NaN.
HAVERSINE_KM_SQL = sql.SQL(
    "2 * {radius} * asin(least(1.0, sqrt("
    "power(sin(radians(lat - %(lat)s) / 2), 2) + "
    "cos(radians(%(lat)s)) * cos(radians(lat)) * power(sin(radians(lon - %(lon)s) / 2), 2))))"
).format(radius=sql.Literal(EARTH_RADIUS_KM))


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
    rows = dicts(
        conn,
        sql.SQL(
            "SELECT shop_id, name, {distance} AS distance_km FROM shops "
            "WHERE %(capability)s = ANY(capabilities) AND {offered} "
            "ORDER BY distance_km, shop_id LIMIT %(limit)s"
        ).format(distance=HAVERSINE_KM_SQL, offered=offered()),
        {"lat": lat, "lon": lon, "capability": capability, "limit": limit},
    )
    return [ShopMatch(int(r["shop_id"]), r["name"], float(r["distance_km"])) for r in rows]


def nearest_shop(
    *, conn: psycopg.Connection, lat: float, lon: float, capability: str
) -> ShopMatch | None:
    """The nearest shop with ``capability``, or None if no shop offers it."""
    found = nearest_shops(conn=conn, lat=lat, lon=lon, capability=capability, limit=1)
    return found[0] if found else None


# --- Scored matching through the geographic index ---------------------------------------
#
# Candidates come from the GiST index on ``shops.earth`` (earthdistance + cube, both in
# PostgreSQL's contrib, so the embedded database has them too): ``earth_box`` bounds the scan
# to the search radius and ``<->`` (KNN) walks shops nearest first, so the capability and
# free-slot filters stop as soon as ``limit`` shops pass them. Straight-line (chord) distance
# orders points exactly as great-circle distance does; the distance reported is haversine.
# Measured against a full scan in BENCHMARKS.md ("Matching"); H3 or a geohash grid would need
# a ring of cells sized to the radius and a second ordering step, and an extra package.

# earth() is 6,378,168 m, a little more than the mean radius haversine uses: the box is
# widened by 1 % so it never cuts off a shop the exact radius check would keep.
CANDIDATES_SQL = sql.SQL("""
SELECT s.shop_id, s.name, {distance} AS distance_km, s.rating, s.rating_count,
       s.on_time_rate, s.survey_mean, s.survey_count, s.response_median_s,
       (SELECT count(*) FROM shop_slots f WHERE f.shop_id = s.shop_id AND f.order_id IS NULL
          AND f.starts_at >= %(after)s AND f.ends_at <= %(before)s) AS free_slots,
       (SELECT sum(p.price) FROM shop_prices p
          WHERE p.shop_id = s.shop_id AND p.job_code = ANY(%(job_codes)s)
          HAVING count(*) = cardinality(%(job_codes)s::text[])) AS price,
       s.currency
FROM shops s
WHERE earth_box(ll_to_earth(%(lat)s, %(lon)s), %(radius_m)s * 1.01) @> s.earth
  AND s.capabilities @> %(capabilities)s::text[]
  AND {offered}
  AND NOT (s.shop_id = ANY(%(exclude)s::bigint[]))
  AND EXISTS (SELECT 1 FROM shop_slots f WHERE f.shop_id = s.shop_id AND f.order_id IS NULL
              AND f.starts_at >= %(after)s AND f.ends_at <= %(before)s)
ORDER BY s.earth <-> ll_to_earth(%(lat)s, %(lon)s)
LIMIT %(limit)s
""").format(distance=HAVERSINE_KM_SQL, offered=offered("s"))


@dataclass(frozen=True)
class MatchRequest:
    """What an order needs from a shop, and where the vehicle usually is."""

    lat: float
    lon: float
    capabilities: tuple[str, ...]
    job_codes: tuple[str, ...]
    after: datetime
    before: datetime
    radius_km: float = 50.0
    limit: int = 20
    exclude: tuple[int, ...] = ()


def find_candidates(*, conn: psycopg.Connection, request: MatchRequest) -> list[Candidate]:
    """The ``limit`` nearest shops within the radius that can do the jobs and have a free slot
    between ``after`` and ``before``, nearest first."""
    rows = dicts(
        conn,
        CANDIDATES_SQL,
        {
            "lat": request.lat,
            "lon": request.lon,
            "radius_m": request.radius_km * 1000.0,
            "capabilities": list(request.capabilities),
            "job_codes": list(request.job_codes),
            "after": request.after,
            "before": request.before,
            "exclude": list(request.exclude),
            "limit": request.limit,
        },
    )
    return [
        Candidate(
            shop_id=int(r["shop_id"]),
            name=r["name"],
            distance_km=float(r["distance_km"]),
            rating=r["rating"],
            rating_count=int(r["rating_count"]),
            on_time_rate=r["on_time_rate"],
            survey_mean=r["survey_mean"],
            survey_count=int(r["survey_count"]),
            response_median_s=r["response_median_s"],
            free_slots=int(r["free_slots"]),
            price=None if r["price"] is None else float(r["price"]),
            currency=r["currency"],
        )
        for r in rows
        if float(r["distance_km"]) <= request.radius_km
    ]


def match_shops(
    *, conn: psycopg.Connection, request: MatchRequest, weights: MatchWeights | None = None
) -> list[tuple[Candidate, dict[str, Any]]]:
    """Candidates scored and ranked best first, each with its score breakdown."""
    found = find_candidates(conn=conn, request=request)
    return score(found, radius_km=request.radius_km, weights=weights or MatchWeights())
