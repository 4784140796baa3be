# SPDX-License-Identifier: MIT
"""``wrenchlight bench api``: latency and throughput of the API's busiest reads.

A fleet is generated in a database of its own, inside PostgreSQL with ``generate_series``
(seconds, not minutes of Python): ``--vehicles`` vehicles in fleets of ``--fleet-size``, each
with its state, a prediction per model per day of ``--days`` days (so the latest is found
among many), open alerts for one in twenty, trouble codes for one in thirty, and per day one
drive of ``--drive-minutes`` minutes in the 1-minute and 1-hour rollups. The raw readings are
not generated: none of the three endpoints reads them (the series comes from the rollups,
health from the state and the predictions), and 30 days of 1 Hz data for 10,000 vehicles
would not fit this machine.

The API runs as it does in production, ``uvicorn`` with ``--api-workers`` processes, and is
measured over HTTP by 1 and by 32 concurrent clients (threads with keep-alive connections),
each endpoint for ``--seconds`` seconds after a warm-up:

- vehicle health (``GET /vehicles/{id}/health``) of random vehicles;
- a one-day telemetry series (``GET /vehicles/{id}/telemetry``, 1-minute buckets) of a day on
  which the vehicle drove;
- a fleet health table of ``--fleet-size`` vehicles (``GET /fleets/{id}/health``, one page).

Targets on this machine: vehicle health p99 ≤ 25 ms at 1 client; fleet table p99 ≤ 250 ms.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import random
import secrets
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any

import typer
from psycopg import sql

from benchmarks.host import host_of
from db.rows import dicts, scalar, scalars

TARGETS = {"health_p99_ms_1_client": 25.0, "fleet_p99_ms_1_client": 250.0}
ROLLUP_SIGNALS = ("speed_kmh", "engine_rpm", "coolant_temp_c")


# Every client's least number of measured requests, however short the window.
MIN_REQUESTS_PER_CLIENT = 3


def _generate(
    conn: Any,
    *,
    vehicles: int,
    fleet_size: int,
    days: int,
    drive_minutes: int,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Fill the bench database as of ``now`` (default: the current time), the one clock of
    every row it writes; returns row counts and seconds taken."""
    started = time.perf_counter()
    now = now or dt.datetime.now(dt.UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    first_day = today - dt.timedelta(days=days)
    fleets = -(-vehicles // fleet_size)
    conn.execute(
        "INSERT INTO fleets (name) SELECT 'bench fleet ' || i FROM generate_series(1, %s) i",
        (fleets,),
    )
    conn.execute(
        "INSERT INTO vehicles (vin, fleet_id, make, model, home_lat, home_lon, fuel_type) "
        "SELECT 'WLB' || lpad(i::text, 14, '0'), f.fleet_id, 'Sim', 'Bench', "
        " 41.88 + random() * 0.2 - 0.1, -87.63 + random() * 0.2 - 0.1, 'petrol' "
        "FROM generate_series(0, %s - 1) i "
        "JOIN (SELECT fleet_id, row_number() OVER (ORDER BY fleet_id) - 1 AS k FROM fleets) f "
        "  ON f.k = i / %s",
        (vehicles, fleet_size),
    )
    conn.execute(
        "INSERT INTO vehicle_state (vehicle_id, last_seen, odometer_km, latest) "
        "SELECT vehicle_id, %s - random() * INTERVAL '30 hours', 10000 + random() * 90000, "
        " jsonb_build_object('speed_kmh', 0, 'coolant_temp_c', 40, 'fuel_level_pct', 55.3) "
        "FROM vehicles",
        (now,),
    )
    # One prediction per model per day, evidence of a realistic size (the running totals).
    conn.execute(
        "INSERT INTO predictions (vehicle_id, model, model_version, time, value, unit, "
        " remaining_km, evidence) "
        "SELECT v.vehicle_id, m.model, 'bench-1', %(first)s + d * INTERVAL '1 day', "
        " CASE m.model WHEN 'oil_life' THEN greatest(0, 100 - d * 2.5 - v.vehicle_id %% 40) "
        "  ELSE 12 - d * 0.05 - (v.vehicle_id %% 80) * 0.1 END, m.unit, 5000 - d * 100, "
        " jsonb_build_object('pad_front_mm', 12 - d * 0.05, 'pad_rear_mm', 10 - d * 0.04, "
        "  'trend_per_day', -0.4, 'km_per_day', 42.0, 'state', jsonb_build_object("
        "   'through_s', extract(epoch FROM %(now)s), 'effective_revs', 1.2e7, 'km', 4000.0, "
        "   'recent_km', 1200.0, 'last_rpm', jsonb_build_array(1.7e9, 800))) "
        "FROM vehicles v CROSS JOIN generate_series(0, %(days)s - 1) d "
        "CROSS JOIN (VALUES ('oil_life', '%%'), ('brake_pads', 'mm')) m(model, unit)",
        {"first": first_day, "days": days, "now": now},
    )
    conn.execute(
        "INSERT INTO alerts (vehicle_id, kind, severity, message, tier) "
        "SELECT vehicle_id, 'oil_change', 'warning', 'Oil life 12 %, about 900 km left', "
        " 'change_soon' FROM vehicles WHERE vehicle_id % 20 = 0"
    )
    conn.execute(
        "INSERT INTO vehicle_dtcs (vehicle_id, stored, pending) "
        "SELECT vehicle_id, '{P0301}', '{P0420}' FROM vehicles WHERE vehicle_id % 30 = 0"
    )
    # Per day one drive starting at a random minute between 06:00 and 20:00.
    columns = sql.SQL(", ").join(
        sql.Identifier(f"{s}_{p}") for s in ROLLUP_SIGNALS for p in ("avg", "min", "max", "n")
    )
    conn.execute(
        sql.SQL(
            "INSERT INTO readings_1m (bucket, vehicle_id, n, {columns}) "
            "SELECT t, vehicle_id, 60, s, s * 0.6, s * 1.4, 60, 800 + s * 30, 700, 900 + s * 40, "
            " 30, 40 + least(m, 50), 38 + least(m, 50), 42 + least(m, 50), 2 "
            "FROM (SELECT v.vehicle_id, m, %(first)s + d * INTERVAL '1 day' "
            "       + (360 + (v.vehicle_id * 7919 + d * 104729) %% 840) * INTERVAL '1 minute' "
            "       + m * INTERVAL '1 minute' AS t, 30 + 20 * sin(m / 7.0) AS s "
            "      FROM vehicles v CROSS JOIN generate_series(0, %(days)s - 1) d "
            "      CROSS JOIN generate_series(0, %(minutes)s - 1) m) drive"
        ).format(columns=columns),
        {"first": first_day, "days": days, "minutes": drive_minutes},
    )
    conn.execute(
        sql.SQL(
            "INSERT INTO readings_1h (bucket, vehicle_id, n, {columns}) "
            "SELECT date_trunc('hour', bucket), vehicle_id, sum(n), {rollups} "
            "FROM readings_1m GROUP BY 1, 2"
        ).format(columns=columns, rollups=sql.SQL(", ").join(map(_hourly, ROLLUP_SIGNALS)))
    )
    conn.execute("VACUUM ANALYZE")
    counts = {
        table: int(scalar(conn, sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))))
        for table in ("vehicles", "fleets", "predictions", "readings_1m", "readings_1h")
    }
    return {**counts, "seconds": round(time.perf_counter() - started, 1)}


def _hourly(signal: str) -> sql.Composed:
    """One signal's hourly rollup columns from its minute ones: mean, min, max, count."""
    avg, low, high, n = (sql.Identifier(f"{signal}_{p}") for p in ("avg", "min", "max", "n"))
    return sql.SQL("sum({avg} * {n}) / sum({n}), min({low}), max({high}), sum({n})").format(
        avg=avg, n=n, low=low, high=high
    )


def serve(database_url: str, workers: int, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "WRENCHLIGHT_DATABASE_URL": database_url,
        # One signing secret for every worker, and a rate limit the load cannot reach: the
        # limiter still counts every request, it just never refuses one.
        "WRENCHLIGHT_JWT_SECRET": secrets.token_urlsafe(32),
        "WRENCHLIGHT_API_RATE_LIMIT": "100000000/minute",
        "WRENCHLIGHT_API_USER_RATE_LIMIT": "100000000/minute",
    }
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "wrenchlight"),
            "api",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
    )


def wait_up(base: str, timeout_s: float = 60.0) -> None:
    import httpx2

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the API did not come up at {base}")


def served(
    stack: ExitStack, database_url: str, workers: int, port: int
) -> tuple[subprocess.Popen[bytes], str]:
    """``serve`` until ``stack`` closes, once it answers; the process and its base URL."""
    server = serve(database_url, workers, port)
    stack.callback(server.wait, 30)
    stack.callback(server.terminate)
    base = f"http://127.0.0.1:{port}"
    wait_up(base)
    return server, base


def load(
    base: str,
    paths: Callable[[random.Random], tuple[str, dict[str, str]]],
    clients: int,
    seconds: float,
) -> dict[str, Any]:
    """``clients`` threads requesting ``paths`` for ``seconds``; latency percentiles and rate."""
    import httpx2

    logging.getLogger("httpx2").setLevel(logging.WARNING)  # a line per request otherwise
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    stop_at = time.monotonic() + seconds
    barrier = threading.Barrier(clients)

    def client(i: int) -> None:
        rng = random.Random(i)
        with httpx2.Client(base_url=base, timeout=30) as http:
            for _ in range(3):  # warm the connection and the server's caches
                path, headers = paths(rng)
                http.get(path, headers=headers)
            barrier.wait()
            # A few requests even past the deadline: on a loaded machine a short window can
            # end before a client got two answers, and percentiles need some.
            while time.monotonic() < stop_at or len(latencies[i]) < MIN_REQUESTS_PER_CLIENT:
                path, headers = paths(rng)
                t0 = time.perf_counter()
                response = http.get(path, headers=headers)
                latencies[i].append(time.perf_counter() - t0)
                if response.status_code != 200:
                    errors.append(f"{path}: {response.status_code} {response.text[:200]}")

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    ms = sorted(x * 1000 for per in latencies for x in per)
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, e.g. {errors[0]}")
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    return {
        "clients": clients,
        "requests": len(ms),
        "p50_ms": round(cuts[49], 2),
        "p99_ms": round(cuts[98], 2),
        "max_ms": round(ms[-1], 2),
        "requests_per_s": round(len(ms) / min(wall, seconds + 1), 1),
    }


def bench_api(
    ctx: typer.Context,
    vehicles: Annotated[int, typer.Option(min=10, help="Vehicles in the fleet.")] = 10_000,
    fleet_size: Annotated[int, typer.Option(min=1, help="Vehicles per fleet.")] = 1_000,
    days: Annotated[int, typer.Option(min=1, max=400, help="Days of history.")] = 30,
    drive_minutes: Annotated[
        int, typer.Option(min=1, max=600, help="Minutes driven per vehicle and day.")
    ] = 60,
    seconds: Annotated[float, typer.Option(min=0.5, help="Seconds per measurement.")] = 8.0,
    clients: Annotated[
        list[int], typer.Option("--clients", help="Concurrent clients; repeat for several.")
    ] = [1, 32],  # noqa: B006 (typer reads the default, never mutates it)
    api_workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes.")] = 2,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line.")] = False,
) -> None:
    """p50/p99 latency and requests/s of vehicle health, a one-day series and a fleet table."""
    import db

    host = host_of(ctx)
    report: dict[str, Any] = {"machine_load_1m": round(os.getloadavg()[0], 2)}
    with ExitStack() as stack:
        url = host.database(stack)
        typer.echo(f"generating {vehicles:,} vehicles × {days} days …", err=True)
        # One clock for the data and the days asked for: the generator's (Python's), not
        # the database's now() as well.
        now = dt.datetime.now(dt.UTC)
        with db.connect(url, autocommit=True) as conn:
            report["data"] = _generate(
                conn,
                vehicles=vehicles,
                fleet_size=fleet_size,
                days=days,
                drive_minutes=drive_minutes,
                now=now,
            )
            keys = _credentials(conn)
            fleet_of: dict[int, int] = {
                r["vehicle_id"]: r["fleet_id"]
                for r in dicts(conn, "SELECT vehicle_id, fleet_id FROM vehicles")
            }
            ids = sorted(fleet_of)
            fleet_ids = sorted(keys)
            drives: dict[int, dt.datetime] = {
                r["vehicle_id"]: r["last_day"]
                for r in dicts(
                    conn,
                    "SELECT vehicle_id, max(date_trunc('day', bucket)) AS last_day "
                    "FROM readings_1m WHERE bucket < %s GROUP BY 1",
                    (now.replace(hour=0, minute=0, second=0, microsecond=0),),
                )
            }
        typer.echo(f"data: {json.dumps(report['data'])}", err=True)
        port = host.free_port()
        _, base = served(stack, url, api_workers, port)

        def health(rng: random.Random) -> tuple[str, dict[str, str]]:
            vehicle = rng.choice(ids)
            return f"/vehicles/{vehicle}/health", keys[fleet_of[vehicle]]

        def series(rng: random.Random) -> tuple[str, dict[str, str]]:
            vehicle = rng.choice(ids)
            day = drives[vehicle]
            end = day + dt.timedelta(days=1)
            path = (
                f"/vehicles/{vehicle}/telemetry?signal=speed_kmh&bucket=1m"
                f"&start={day.isoformat().replace('+', '%2B')}"
                f"&end={end.isoformat().replace('+', '%2B')}"
            )
            return path, keys[fleet_of[vehicle]]

        def fleet(rng: random.Random) -> tuple[str, dict[str, str]]:
            fleet_id = rng.choice(fleet_ids)
            return f"/fleets/{fleet_id}/health?limit={fleet_size}", keys[fleet_id]

        report["endpoints"] = {}
        for name, paths in (
            ("vehicle_health", health),
            ("telemetry_day", series),
            ("fleet_table", fleet),
        ):
            report["endpoints"][name] = {}
            for n in clients:
                typer.echo(f"{name}, {n} client(s) …", err=True)
                report["endpoints"][name][str(n)] = load(base, paths, n, seconds)
    report.update(
        vehicles=vehicles,
        fleet_size=fleet_size,
        days=days,
        api_workers=api_workers,
        seconds=seconds,
        targets=TARGETS,
    )
    one = report["endpoints"]
    if "1" in one["vehicle_health"]:
        report["targets_met"] = {
            "health_p99_ms_1_client": one["vehicle_health"]["1"]["p99_ms"]
            <= TARGETS["health_p99_ms_1_client"],
            "fleet_p99_ms_1_client": one["fleet_table"]["1"]["p99_ms"]
            <= TARGETS["fleet_p99_ms_1_client"],
        }
    _print(report)
    if as_json:
        typer.echo(json.dumps(report))


def _credentials(conn: Any) -> dict[int, dict[str, str]]:
    """Per fleet, the headers of its fleet manager's API key: every request is authenticated
    and passes the fleet manager's object-level checks, as a fleet's integration would."""
    from api.auth.keys import create_key
    from api.auth.users import create_user

    headers = {}
    for fleet_id in scalars(conn, "SELECT fleet_id FROM fleets ORDER BY fleet_id"):
        user = create_user(
            conn=conn,
            email=f"manager-{fleet_id}@bench.test",
            role="fleet_manager",
            fleet_id=fleet_id,
        )
        headers[int(fleet_id)] = {"X-API-Key": create_key(conn=conn, user_id=user).key}
    return headers


def _print(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="API latency over HTTP (uvicorn)")
    for col in ("endpoint", "clients", "requests", "p50 ms", "p99 ms", "max ms", "req/s"):
        table.add_column(col, justify="right" if col != "endpoint" else "left")
    for name, by_clients in report["endpoints"].items():
        for n, r in by_clients.items():
            table.add_row(
                name,
                n,
                f"{r['requests']:,}",
                f"{r['p50_ms']:.1f}",
                f"{r['p99_ms']:.1f}",
                f"{r['max_ms']:.1f}",
                f"{r['requests_per_s']:,.0f}",
            )
    Console(stderr=True).print(table)
