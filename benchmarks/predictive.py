# SPDX-License-Identifier: MIT
"""``wrenchlight bench predictive``: one incremental evaluation pass over a large fleet.

Competitors on the same data, in one run, in a private database:

* limit: only reading the new rows out of PostgreSQL, the fastest way we know (each vehicle's
  columns packed into binary strings, and a binary COPY of the same rows; the faster counts);
* ours: ``evaluate_vehicles`` on every pending vehicle (the set-based pass the evaluator
  process runs), the pending query included; with ``--evaluators N``, N evaluator processes
  (started and warmed before the clock, as long-running evaluators are) each take the
  vehicles of their share of the shards, as leased evaluators do;
* naive: ``evaluate_vehicle`` per vehicle, timed on a subset (after putting its vehicles back
  to their state before ours) and extrapolated to the fleet; its results are compared with
  ours.
"""

from __future__ import annotations

import json
import os
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import psycopg
import typer
from psycopg import sql
from rich.console import Console
from rich.table import Table

from benchmarks.host import host_of
from benchmarks.progress import Bars, bars
from db.rows import dicts, record, records, scalar

# The timed pass reads readings up to its ``now``: after the window and the settle time.
PASS_DELAY = timedelta(seconds=61)


def _machine_busy_s() -> float:
    """Busy CPU-seconds of the whole machine so far (all cores, /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _proc_cpu_s(pid: int) -> float | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


class _Clock:
    """Wall time, this process's CPU, the database backend's CPU and the machine's busy time
    of one timed phase."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.backend = conn.info.backend_pid
        self.load_before = os.getloadavg()[0]
        self.wall = time.perf_counter()
        self.cpu = time.process_time()
        self.busy = _machine_busy_s()
        self.pg = _proc_cpu_s(self.backend)

    def stop(self) -> dict[str, Any]:
        wall = time.perf_counter() - self.wall
        pg = _proc_cpu_s(self.backend)
        return {
            "seconds": round(wall, 3),
            "python_cpu_s": round(time.process_time() - self.cpu, 2),
            "postgres_backend_cpu_s": None
            if pg is None or self.pg is None
            else round(pg - self.pg, 2),
            "machine_busy_cores": round((_machine_busy_s() - self.busy) / wall, 2),
            "machine_cores": os.cpu_count(),
            "load_1min_before": round(self.load_before, 2),
            "load_1min_after": round(os.getloadavg()[0], 2),
        }


def _since(conn: psycopg.Connection) -> dict[int, float | None]:
    """Each vehicle's read cursor after the untimed first pass: its earliest model's end."""
    rows = dicts(
        conn,
        "SELECT vehicle_id, min((evidence->'state'->>'through_s')::float8) AS through_s "
        "FROM predictions GROUP BY vehicle_id ORDER BY vehicle_id",
    )
    return {int(r["vehicle_id"]): r["through_s"] for r in rows}


def _limit(
    conn: psycopg.Connection, since: dict[int, float | None], now: datetime, bars: Bars
) -> dict[str, Any]:
    from predictive.bulk import BULK_ROWS, CHUNK_VEHICLES, PAGE_SQL, chunks, read_new_rows

    out: dict[str, Any] = {}
    clock = _Clock(conn)
    rows = 0
    ids = list(since)
    for k, chunk in enumerate(chunks(ids, CHUNK_VEHICLES)):
        got = read_new_rows(conn, {v: since[v] for v in chunk}, now=now)
        rows += sum(len(r) for r in got.values())
        bars("limit: packed columns → numpy", (k + 1) * CHUNK_VEHICLES, len(ids))
    out["packed_columns"] = {**clock.stop(), "rows": rows}
    # The same rows as a binary COPY, bytes only: no decoding at all.
    # The evaluator's own page query (a constant of predictive.bulk), as COPY's source.
    copy_sql = sql.SQL(
        "COPY (SELECT c.vehicle_id, page.* FROM unnest(%(ids)s::int8[], %(since)s::float8[]) "
        "AS c(vehicle_id, since) CROSS JOIN LATERAL ({select}) page) TO STDOUT (FORMAT BINARY)"
    ).format(select=PAGE_SQL)
    clock = _Clock(conn)
    size = 0
    for k, chunk in enumerate(chunks(ids, CHUNK_VEHICLES)):
        params = {"ids": chunk, "since": [since[v] for v in chunk], "now": now, "cap": BULK_ROWS}
        with conn.cursor().copy(copy_sql, params) as copy:
            while data := copy.read():
                size += len(data)
        bars("limit: binary COPY, bytes only", (k + 1) * CHUNK_VEHICLES, len(ids))
    out["binary_copy"] = {**clock.stop(), "bytes": size}
    best = min(("packed_columns", "binary_copy"), key=lambda m: out[m]["seconds"])
    out.update(method=best, seconds=out[best]["seconds"])
    return out


def _warm() -> int:
    """Import what an evaluator process needs (before the clock starts)."""
    import predictive.evaluator  # noqa: F401

    time.sleep(0.5)  # long enough that every worker of the pool takes one
    return os.getpid()


def _evaluate_share(database_url: str, ids: list[int], now: datetime) -> dict[str, Any]:
    """One evaluator process's pass over its share of the pending vehicles."""
    from predictive.evaluator import evaluate_vehicles

    with psycopg.connect(database_url, autocommit=True) as conn:
        backend = conn.info.backend_pid
        pg, cpu = _proc_cpu_s(backend), time.process_time()
        written = evaluate_vehicles(conn=conn, vehicle_ids=ids, now=now)
        pg_after = _proc_cpu_s(backend)
        return {
            "written": written,
            "python_cpu_s": time.process_time() - cpu,
            "postgres_backend_cpu_s": None if pg is None or pg_after is None else pg_after - pg,
        }


def _ours_in_processes(
    conn: psycopg.Connection,
    database_url: str,
    *,
    evaluators: int,
    now: datetime,
    bars: Bars,
) -> tuple[dict[str, Any], dict[int, int]]:
    """The pending query, then ``evaluators`` processes on their shards' vehicles."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from predictive.evaluator import pending_vehicles
    from predictive.leases import shard_count, shard_of

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=evaluators, mp_context=context) as pool:
        for warm in [pool.submit(_warm) for _ in range(evaluators)]:
            warm.result()
        shards = shard_count(conn)
        clock = _Clock(conn)
        pending = pending_vehicles(conn=conn, limit=2**31 - 1)
        pending_s = time.perf_counter() - clock.wall
        shares: list[list[int]] = [[] for _ in range(evaluators)]
        for vid in pending:  # shard k goes to evaluator k mod N, as a fair lease share would
            shares[shard_of(vid, shards) % evaluators].append(vid)
        futures = [pool.submit(_evaluate_share, database_url, share, now) for share in shares]
        written: dict[int, int] = {}
        python_cpu = backend_cpu = 0.0
        for k, future in enumerate(as_completed(futures)):
            part = future.result()
            written |= part["written"]
            python_cpu += part["python_cpu_s"]
            backend_cpu += part["postgres_backend_cpu_s"] or 0.0
            bars(f"ours: {evaluators} evaluator processes", k + 1, evaluators)
        figures = clock.stop()
    figures.update(
        python_cpu_s=round(figures["python_cpu_s"] + python_cpu, 2),
        postgres_backend_cpu_s=round((figures["postgres_backend_cpu_s"] or 0.0) + backend_cpu, 2),
        pending_query_seconds=round(pending_s, 3),
        evaluators=evaluators,
    )
    return figures, written


@dataclass(frozen=True, slots=True)
class Marks:
    """The newest prediction and alert before a timed pass: what the pass wrote is above."""

    prediction_id: int
    alert_id: int


@dataclass(frozen=True, slots=True)
class Written:
    """One prediction a pass wrote, as the naive and ours passes are compared."""

    vehicle_id: int
    model: str
    value: float
    remaining_km: float | None
    evidence: dict[str, Any]


def _written(
    conn: psycopg.Connection, marks: Marks, subset: list[int]
) -> dict[tuple[int, str], tuple[float, float | None, dict[str, Any]]]:
    """The predictions written for ``subset`` since ``marks``, by vehicle and model."""
    found = records(
        conn,
        Written,
        "SELECT vehicle_id, model, value, remaining_km, evidence FROM predictions "
        "WHERE prediction_id > %s AND vehicle_id = ANY(%s)",
        (marks.prediction_id, subset),
    )
    return {(w.vehicle_id, w.model): (w.value, w.remaining_km, w.evidence) for w in found}


def _alerts(conn: psycopg.Connection, marks: Marks, subset: list[int]) -> int:
    """How many alerts were raised for ``subset`` since ``marks``."""
    return int(
        scalar(
            conn,
            "SELECT count(*) FROM alerts WHERE alert_id > %s AND vehicle_id = ANY(%s)",
            (marks.alert_id, subset),
        )
    )


def _naive(
    conn: psycopg.Connection,
    subset: list[int],
    now: datetime,
    marks: Marks,
    bars: Bars,
) -> dict[str, Any]:
    """Time evaluate_vehicle on ``subset`` from the state before ours; compare with ours."""
    from predictive.evaluator import evaluate_vehicle

    ours = _written(conn, marks, subset)
    ours_alerts = _alerts(conn, marks, subset)
    conn.execute(
        "DELETE FROM alerts WHERE alert_id > %s AND vehicle_id = ANY(%s)",
        (marks.alert_id, subset),
    )
    conn.execute(
        "DELETE FROM predictions WHERE prediction_id > %s AND vehicle_id = ANY(%s)",
        (marks.prediction_id, subset),
    )
    clock = _Clock(conn)
    for k, vid in enumerate(subset):
        evaluate_vehicle(conn=conn, vehicle_id=vid, now=now)
        if k % 50 == 49 or k == len(subset) - 1:
            bars("naive: evaluate_vehicle each", k + 1, len(subset))
    figures = clock.stop()
    theirs = _written(conn, marks, subset)
    naive_alerts = _alerts(conn, marks, subset)
    figures.update(
        vehicles=len(subset),
        seconds_per_vehicle=round(figures["seconds"] / len(subset), 5),
        identical_to_ours=theirs == ours and ours_alerts == naive_alerts,
        predictions=len(theirs),
        alerts=naive_alerts,
    )
    return figures


def run_predictive(
    database_url: str,
    *,
    vehicles: int,
    minutes: int,
    naive_vehicles: int,
    seed: int,
    bars: Bars,
    evaluators: int = 1,
) -> dict[str, Any]:
    """Load the fleet, then time limit, ours and naive on it (see the module docstring)."""
    from benchmarks.predictive_data import load_fleet
    from predictive.evaluator import evaluate_vehicles, pending_vehicles

    with psycopg.connect(database_url, autocommit=True) as conn:
        fleet = load_fleet(conn, vehicles=vehicles, minutes=minutes, seed=seed, progress=bars)
        ids = fleet.vehicle_ids.tolist()
        # The minute before the window, evaluated untimed: the pass continues from its totals.
        evaluate_vehicles(
            conn=conn,
            vehicle_ids=ids,
            now=fleet.window_start - timedelta(seconds=0.5),
            between_chunks=_progress(bars, "first pass (untimed)", len(ids)),
        )
        conn.execute(
            "INSERT INTO vehicle_state (vehicle_id, last_seen, updated_at) "
            "SELECT vehicle_id, %s, clock_timestamp() FROM vehicles",
            (fleet.window_end,),
        )
        conn.execute("VACUUM ANALYZE predictions, alerts, vehicle_state")
        marks = record(
            conn,
            Marks,
            "SELECT (SELECT coalesce(max(prediction_id), 0) FROM predictions) AS prediction_id, "
            "(SELECT coalesce(max(alert_id), 0) FROM alerts) AS alert_id",
        )
        assert marks is not None  # one row of two figures, always
        now = fleet.window_end + PASS_DELAY
        limit = _limit(conn, _since(conn), now, bars)

        if evaluators == 1:
            clock = _Clock(conn)
            pending = pending_vehicles(conn=conn, limit=len(ids) + 1)
            pending_s = time.perf_counter() - clock.wall
            written = evaluate_vehicles(
                conn=conn,
                vehicle_ids=pending,
                now=now,
                between_chunks=_progress(bars, "ours: evaluate_vehicles", len(pending)),
            )
            ours = {**clock.stop(), "pending_query_seconds": round(pending_s, 3), "evaluators": 1}
        else:
            ours, written = _ours_in_processes(
                conn, database_url, evaluators=evaluators, now=now, bars=bars
            )
        alerts = scalar(conn, "SELECT count(*) FROM alerts WHERE alert_id > %s", (marks.alert_id,))
        ours.update(
            vehicles=len(written),
            predictions=sum(written.values()),
            alerts_raised=int(alerts),
        )
        step = max(1, len(ids) // naive_vehicles)
        naive = _naive(conn, ids[::step][:naive_vehicles], now, marks, bars)

    seconds = ours["seconds"]
    naive_rate = 1.0 / naive["seconds_per_vehicle"]
    return {
        "vehicles": len(written),
        "minutes": minutes,
        "rows": fleet.new_rows,
        "samples": fleet.new_samples,
        "seconds": seconds,
        "vehicles_per_s": round(len(written) / seconds),
        "samples_per_s": round(fleet.new_samples / seconds),
        "naive_vehicles_per_s": round(naive_rate, 1),
        "naive_extrapolated_seconds": round(len(ids) / naive_rate, 1),
        "limit_seconds": limit["seconds"],
        "ours_over_naive": round(len(written) / seconds / naive_rate, 1),
        "limit_over_ours": round(limit["seconds"] / seconds, 2),
        "ours": ours,
        "naive": naive,
        "limit": limit,
        "seed": seed,
    }


def _progress(bars: Bars, phase: str, total: int) -> Any:
    from predictive.bulk import CHUNK_VEHICLES

    done = [0]

    def step() -> bool:
        bars(phase, min(done[0], total), total)
        done[0] += CHUNK_VEHICLES
        return True

    return step


def _print(console: Console, f: dict[str, Any]) -> None:
    console.print(
        f"{f['vehicles']:,} vehicles with {f['minutes']} min of new driving each: "
        f"{f['rows']:,} rows, {f['samples']:,} samples"
    )
    table = Table(title="predictive: one incremental pass, same data, same run")
    for column in ("competitor", "seconds", "vehicles/s", "samples/s", "ours is"):
        table.add_column(column, justify="left" if column == "competitor" else "right")
    naive, limit, ours = f["naive"], f["limit"], f["ours"]
    table.add_row(
        f"naive: evaluate_vehicle per vehicle (timed on {naive['vehicles']:,}, extrapolated)",
        f"{f['naive_extrapolated_seconds']:,.1f}",
        f"{f['naive_vehicles_per_s']:,.1f}",
        f"{f['samples'] / f['naive_extrapolated_seconds']:,.0f}",
        f"{f['ours_over_naive']}x",
    )
    processes = "" if ours["evaluators"] == 1 else f", {ours['evaluators']} evaluator processes"
    table.add_row(
        f"ours: pending query + evaluate_vehicles (set-based{processes})",
        f"{f['seconds']:.2f}",
        f"{f['vehicles_per_s']:,}",
        f"{f['samples_per_s']:,}",
        "",
    )
    table.add_row(
        f"limit: reading the same rows only ({limit['method']})",
        f"{limit['seconds']:.2f}",
        f"{f['vehicles'] / limit['seconds']:,.0f}",
        f"{f['samples'] / limit['seconds']:,.0f}",
        f"{f['limit_over_ours']}x",
    )
    console.print(table)
    console.print(
        f"ours: pending query {ours['pending_query_seconds']} s, {ours['predictions']:,} "
        f"predictions, {ours['alerts_raised']:,} alerts raised; Python CPU "
        f"{ours['python_cpu_s']} s, PostgreSQL backend CPU {ours['postgres_backend_cpu_s']} s; "
        f"machine busy {ours['machine_busy_cores']} of {ours['machine_cores']} cores, load "
        f"{ours['load_1min_before']} → {ours['load_1min_after']}"
    )
    console.print(
        f"limit: packed columns {limit['packed_columns']['seconds']} s, binary COPY "
        f"{limit['binary_copy']['seconds']} s ({limit['binary_copy']['bytes'] / 1e6:,.0f} MB)"
    )
    console.print(
        f"naive: {naive['seconds_per_vehicle'] * 1000:.2f} ms per vehicle; same predictions "
        f"and alerts as ours on its {naive['vehicles']:,} vehicles: {naive['identical_to_ours']}"
    )


def bench_predictive(
    ctx: typer.Context,
    vehicles: Annotated[int, typer.Option(min=1, help="Vehicles with new data.")] = 100_000,
    minutes: Annotated[
        int, typer.Option(min=1, help="Minutes of new driving per vehicle in the pass.")
    ] = 2,
    naive_vehicles: Annotated[
        int, typer.Option(min=1, help="Vehicles the naive way is timed on.")
    ] = 1000,
    seed: Annotated[int, typer.Option(help="Fleet seed.")] = 0,
    evaluators: Annotated[
        int,
        typer.Option(
            min=1, max=64, help="Evaluator processes for ours, each on its share of the shards."
        ),
    ] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object.")] = False,
) -> None:
    """Evaluator pass: set-based (ours) vs evaluate_vehicle per vehicle (naive) vs reading
    the rows only (limit)."""
    host = host_of(ctx)
    console = Console(stderr=as_json)
    with ExitStack() as stack, bars(console) as progress:
        database_url = host.database(stack)
        figures = run_predictive(
            database_url,
            vehicles=vehicles,
            minutes=minutes,
            naive_vehicles=min(naive_vehicles, vehicles),
            seed=seed,
            bars=Bars(progress),
            evaluators=evaluators,
        )
    if as_json:
        typer.echo(json.dumps(figures))
        return
    _print(console, figures)
