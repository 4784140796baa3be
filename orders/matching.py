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

from orders.scoring import Candidate, MatchWeights, score

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)

# Shops offered orders: verified by the platform (shops that applied by themselves wait for an
# admin; imported and admin-made ones are verified as they are inserted) and not suspended.
OFFERED = "{s}verified_at IS NOT NULL AND {s}verification <> 'suspended'"

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
        f"WHERE %(capability)s = ANY(capabilities) AND {OFFERED.format(s='')} "
        "ORDER BY distance_km, shop_id LIMIT %(limit)s",
        {"lat": lat, "lon": lon, "capability": capability, "limit": limit},
    ).fetchall()
    return [ShopMatch(int(r[0]), r[1], float(r[2])) for r in rows]


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
CANDIDATES_SQL = f"""
SELECT s.shop_id, s.name, {HAVERSINE_KM_SQL} AS distance_km, s.rating, s.rating_count,
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
  AND {OFFERED.format(s="s.")}
  AND NOT (s.shop_id = ANY(%(exclude)s::bigint[]))
  AND EXISTS (SELECT 1 FROM shop_slots f WHERE f.shop_id = s.shop_id AND f.order_id IS NULL
              AND f.starts_at >= %(after)s AND f.ends_at <= %(before)s)
ORDER BY s.earth <-> ll_to_earth(%(lat)s, %(lon)s)
LIMIT %(limit)s
"""


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
    rows = conn.execute(
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
    ).fetchall()
    return [
        Candidate(
            shop_id=int(r[0]),
            name=r[1],
            distance_km=float(r[2]),
            rating=r[3],
            rating_count=int(r[4]),
            on_time_rate=r[5],
            survey_mean=r[6],
            survey_count=int(r[7]),
            response_median_s=r[8],
            free_slots=int(r[9]),
            price=None if r[10] is None else float(r[10]),
            currency=r[11],
        )
        for r in rows
        if float(r[2]) <= request.radius_km
    ]


def match_shops(
    *, conn: psycopg.Connection, request: MatchRequest, weights: MatchWeights | None = None
) -> list[tuple[Candidate, dict[str, Any]]]:
    """Candidates scored and ranked best first, each with its score breakdown."""
    found = find_candidates(conn=conn, request=request)
    return score(found, radius_km=request.radius_km, weights=weights or MatchWeights())
