# SPDX-License-Identifier: MIT
"""``wrenchlight bench matching``: one shop match over a large directory, three ways.

Competitors on the same directory (demo shops around real cities, drawn by population) and
the same vehicle positions (also drawn by population, so most lie in dense cities):

- ours: ``orders.matching.match_shops``: the earthdistance GiST index (KNN bounded by
  ``earth_box``), capability and free-slot filters, scoring in Python;
- SQL full scan: haversine over every shop in SQL (``nearest_shops``, the first proposal's
  query), no index;
- naive: haversine over every shop in Python, the directory already in memory.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import statistics
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from psycopg import sql

from benchmarks.host import host_of
from db.rows import records, scalars

CAPABILITIES = ("oil_change", "brake_pads")
RADIUS_KM = 50.0
LIMIT = 20


@dataclass(frozen=True, slots=True)
class DirectoryShop:
    """A shop as the naive matcher scans it: where it is, what it does, a free slot or not."""

    shop_id: int
    lat: float
    lon: float
    capabilities: list[str]
    has_slot: bool


def _percentiles(samples_s: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples_s)
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    return {"p50_ms": round(cuts[49], 3), "p99_ms": round(cuts[98], 3), "n": len(ms)}


def _timed(queries: list[Any], run: Callable[[Any], object]) -> list[float]:
    out = []
    for q in queries:
        start = time.perf_counter()
        run(q)
        out.append(time.perf_counter() - start)
    return out


def _load(conn: Any, shops: int, seed: int, start: dt.datetime) -> float:
    """Insert the directory with COPY and open slots at 70 % of the shops; seconds taken."""
    from orders.cities import demo_directory
    from orders.slots import open_slots

    t0 = time.perf_counter()
    made = demo_directory(count=shops, seed=seed)
    cols = (
        "external_ref", "name", "lat", "lon", "capabilities", "hours", "bays", "rating",
        "rating_count", "on_time_rate", "response_median_s", "timezone", "verification",
    )  # fmt: skip
    copy_sql = sql.SQL("COPY shops ({}) FROM STDIN").format(
        sql.SQL(", ").join(map(sql.Identifier, cols))
    )
    with conn.cursor().copy(copy_sql) as copy:
        for r in made:
            row = r.model_dump(include=set(cols) - {"external_ref"})
            row.update(external_ref=r.ref, hours=json.dumps(r.hours))
            copy.write_row([row[c] for c in cols])
    conn.execute(
        "INSERT INTO shop_prices (shop_id, job_code, price) "
        "SELECT shop_id, 'OIL-CHG', 80 + shop_id % 90 FROM shops"
    )
    ids = [int(i) for i in scalars(conn, "SELECT shop_id FROM shops")]
    busy = set(random.Random(seed).sample(ids, k=len(ids) * 3 // 10))
    free = [i for i in ids if i not in busy]
    open_slots(conn=conn, start=start, days=3, slot_h=4, shop_ids=free)
    conn.execute("ANALYZE shops; ANALYZE shop_slots; ANALYZE shop_prices")
    return time.perf_counter() - t0


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


def matching_figures(url: str, *, shops: int, queries: int, seed: int = 0) -> dict[str, Any]:
    """Load the directory into ``url`` and time the three competitors."""
    import db
    from orders.cities import cities
    from orders.matching import MatchRequest, match_shops, nearest_shops

    # A Monday, so the three days of slots fall on opening days.
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today + dt.timedelta(days=7 - today.weekday())
    rng = random.Random(seed + 1)
    pool = cities()
    points = rng.choices(pool, weights=[c["population"] for c in pool], k=queries)
    requests = [
        MatchRequest(
            lat=p["lat"] + rng.uniform(-0.05, 0.05),
            lon=p["lon"] + rng.uniform(-0.05, 0.05),
            capabilities=(rng.choice(CAPABILITIES),),
            job_codes=("OIL-CHG",),
            after=start,
            before=start + dt.timedelta(days=2),
            radius_km=RADIUS_KM,
            limit=LIMIT,
        )
        for p in points
    ]
    with db.connect(url, autocommit=True) as conn:
        load_s = _load(conn, shops, seed, start)
        for req in requests[:50]:  # warm the caches and the prepared statements
            match_shops(conn=conn, request=req)
        ours = _timed(requests, lambda r: match_shops(conn=conn, request=r))
        found = [len(match_shops(conn=conn, request=r)) for r in requests]
        sql_scan = _timed(
            requests[: max(20, queries // 10)],
            lambda r: nearest_shops(
                conn=conn, lat=r.lat, lon=r.lon, capability=r.capabilities[0], limit=LIMIT
            ),
        )
        directory = records(
            conn,
            DirectoryShop,
            "SELECT s.shop_id, s.lat, s.lon, s.capabilities, EXISTS (SELECT 1 FROM shop_slots f "
            "WHERE f.shop_id = s.shop_id AND f.order_id IS NULL AND f.starts_at >= %s "
            "AND f.ends_at <= %s) AS has_slot FROM shops s",
            (start, start + dt.timedelta(days=2)),
        )

    def naive(r: MatchRequest) -> list[tuple[float, int]]:
        near = []
        for shop in directory:
            km = _haversine_km(r.lat, r.lon, shop.lat, shop.lon)
            if km <= r.radius_km and shop.has_slot and r.capabilities[0] in shop.capabilities:
                near.append((km, shop.shop_id))
        near.sort()
        return near[:LIMIT]

    naive_s = _timed(requests[: max(20, queries // 10)], naive)
    figures: dict[str, Any] = {"shops": shops, "queries": queries, "load_s": round(load_s, 1)}
    figures["ours"] = _percentiles(ours)
    figures["sql_full_scan"] = _percentiles(sql_scan)
    figures["naive"] = _percentiles(naive_s)
    figures["mean_candidates"] = round(sum(found) / len(found), 1)
    figures.update(
        p50_ms=figures["ours"]["p50_ms"],
        p99_ms=figures["ours"]["p99_ms"],
        naive_p99_ms=figures["naive"]["p99_ms"],
        naive_over_ours_p99=round(figures["naive"]["p99_ms"] / figures["ours"]["p99_ms"], 1),
        sql_scan_over_ours_p99=round(
            figures["sql_full_scan"]["p99_ms"] / figures["ours"]["p99_ms"], 1
        ),
    )
    return figures


def bench_matching(
    ctx: typer.Context,
    shops: Annotated[int, typer.Option(min=100, max=1_000_000, help="Shops in the directory.")] = (
        50_000
    ),
    queries: Annotated[int, typer.Option(min=100, help="Matches timed (ours).")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed of directory and vehicles.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line.")] = False,
) -> None:
    """p50/p99 of one shop match: the geographic index vs a full scan in SQL and in Python."""
    with ExitStack() as stack:
        url = host_of(ctx).database(stack)
        f = matching_figures(url, shops=shops, queries=queries, seed=seed)
    if as_json:
        typer.echo(json.dumps(f))
        return
    typer.echo(
        f"{shops:,} shops loaded in {f['load_s']} s; {f['mean_candidates']} candidates/match"
    )
    for name in ("ours", "sql_full_scan", "naive"):
        p = f[name]
        typer.echo(
            f"  {name:<14} p50 {p['p50_ms']:>9.3f} ms  p99 {p['p99_ms']:>9.3f} ms  n={p['n']}"
        )
    typer.echo(
        f"  p99 naive / ours: {f['naive_over_ours_p99']}x; "
        f"SQL full scan / ours: {f['sql_scan_over_ours_p99']}x"
    )
