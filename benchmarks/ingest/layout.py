# SPDX-License-Identifier: MIT
"""Readings layout, measured: one row per sample (narrow) vs one row per timestamp (wide).

On the same simulated fleet data (``benchmarks.ingest.Workload``: the feed's multi-rate sampling,
so speed every second, other fast signals every 2 s, slow ones every 30 s), in scratch tables
of one fresh database, neither partitioned:

- ``layout_narrow`` (time, vehicle_id, signal_id smallint, value float8), index
  (vehicle_id, signal_id, time DESC) — the shape of ``readings``;
- ``layout_wide`` (time, vehicle_id, one nullable float8 column per catalogue signal), index
  (vehicle_id, time DESC); a signal not sampled at a timestamp is NULL;
- ``layout_wide_real``: the same with 4-byte ``real`` columns.

For each: the rate of a binary COPY of the pre-encoded rows into the empty table with its
index (samples/s; samples are non-NULL values), bytes on disk per sample after VACUUM
(``pg_total_relation_size``, heap + indexes + TOAST), and the latency of typical reads on warm
caches (median over the query vehicles of the median of ``repeats`` runs, and the worst
vehicle): one signal of one vehicle over one day (a 1 Hz and a 30 s signal), the latest value of
every signal for a vehicle, and 1-minute averages of one signal over a day.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

import db
from benchmarks.ingest.pgcopy import copy_encoded, workload_rows
from benchmarks.ingest.phase import Progress, checkpoint
from benchmarks.ingest.workload import Workload
from db.rows import a_dict
from ingest import wide
from ingest.wide import PG_EPOCH_MS
from telemetry import SIGNALS, by_name

NARROW = "layout_narrow"
WIDE = "layout_wide"
WIDE_REAL = "layout_wide_real"
LAYOUTS = (NARROW, WIDE, WIDE_REAL)
FAST_SIGNAL = "speed_kmh"  # sampled every second
SLOW_SIGNAL = "coolant_temp_c"  # sampled every 30 s
COLUMNS = wide.COLUMNS


def _vehicles(workload: Workload) -> np.ndarray:
    if workload.vehicle_ids is not None:
        return workload.row_vehicle()
    return workload.row_device.astype(np.int64) + 1


# --- tables and their COPY streams ---------------------------------------------------------


def create_tables(conn: psycopg.Connection) -> None:
    """The scratch tables, empty, indexes in place (as ingest finds them)."""
    for name in LAYOUTS:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))
    conn.execute(
        sql.SQL(
            "CREATE TABLE {} (time timestamptz NOT NULL, vehicle_id bigint NOT NULL, "
            "signal_id smallint NOT NULL, value double precision NOT NULL)"
        ).format(sql.Identifier(NARROW))
    )
    conn.execute(
        sql.SQL("CREATE INDEX ON {} (vehicle_id, signal_id, time DESC)").format(
            sql.Identifier(NARROW)
        )
    )
    for name, kind in ((WIDE, "double precision"), (WIDE_REAL, "real")):
        columns = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(kind)) for c in COLUMNS
        )
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} (time timestamptz NOT NULL, vehicle_id bigint NOT NULL, {})"
            ).format(sql.Identifier(name), columns)
        )
        conn.execute(
            sql.SQL("CREATE INDEX ON {} (vehicle_id, time DESC)").format(sql.Identifier(name))
        )


# One row per sample as binary COPY tuples: the layout ``readings`` had before the wide one.
NARROW_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("time_len", ">i4"),
        ("time", ">i8"),
        ("vehicle_len", ">i4"),
        ("vehicle", ">i8"),
        ("signal_len", ">i4"),
        ("signal", ">i2"),
        ("value_len", ">i4"),
        ("value", ">f8"),
    ]
)


def narrow_stream(workload: Workload) -> np.ndarray:
    """The narrow rows as binary COPY tuples (one per sample)."""
    rows = np.empty(workload.samples, dtype=NARROW_ROW)
    rows["fields"] = 4
    rows["time_len"] = 8
    rows["vehicle_len"] = 8
    rows["signal_len"] = 2
    rows["value_len"] = 8
    rows["time"] = (workload.time_ms - PG_EPOCH_MS) * 1000
    rows["vehicle"] = _vehicles(workload)
    rows["signal"] = workload.signal_id
    rows["value"] = workload.value
    return rows.view(np.uint8)


def _copy(conn: psycopg.Connection, table: str, stream: np.ndarray | bytes) -> float:
    statement = sql.SQL("COPY {} FROM STDIN (FORMAT BINARY)").format(sql.Identifier(table))
    started = time.perf_counter()
    copy_encoded(conn, statement, stream)
    return time.perf_counter() - started


def _sizes(conn: psycopg.Connection, table: str) -> dict[str, int]:
    row = a_dict(
        conn,
        "SELECT pg_total_relation_size(%(t)s) AS total_bytes, "
        "pg_relation_size(%(t)s) AS heap_bytes, pg_indexes_size(%(t)s) AS index_bytes",
        {"t": table},
    )
    assert row is not None  # one row of sizes, always
    return {name: int(size) for name, size in row.items()}


# --- queries -----------------------------------------------------------------------------------


def _q_one_signal(table: str, signal: str) -> sql.Composed:
    if table == NARROW:
        return sql.SQL(
            "SELECT time, value FROM {} WHERE vehicle_id = %(v)s AND signal_id = %(s)s "
            "AND time >= %(t0)s AND time < %(t1)s ORDER BY time"
        ).format(sql.Identifier(table))
    return sql.SQL(
        "SELECT time, {c} AS value FROM {t} WHERE vehicle_id = %(v)s AND time >= %(t0)s "
        "AND time < %(t1)s AND {c} IS NOT NULL ORDER BY time"
    ).format(t=sql.Identifier(table), c=sql.Identifier(signal))


def _q_latest(table: str) -> sql.Composed:
    if table == NARROW:
        return sql.SQL(
            "SELECT s.id, l.time, l.value FROM unnest(%(ids)s::smallint[]) AS s(id) "
            "CROSS JOIN LATERAL (SELECT time, value FROM {} r WHERE r.vehicle_id = %(v)s "
            "AND r.signal_id = s.id ORDER BY time DESC LIMIT 1) AS l ORDER BY s.id"
        ).format(sql.Identifier(table))
    # The latest row holds NULLs for the signals not sampled at its timestamp: every column
    # needs its own search back to its latest non-NULL value.
    parts = [
        sql.SQL(
            "(SELECT {id}::smallint AS id, time, {c}::float8 AS value FROM {t} "
            "WHERE vehicle_id = %(v)s AND {c} IS NOT NULL ORDER BY time DESC LIMIT 1)"
        ).format(id=sql.Literal(s.id), c=sql.Identifier(s.name), t=sql.Identifier(table))
        for s in SIGNALS
    ]
    return sql.SQL("SELECT * FROM ({}) AS latest ORDER BY id").format(
        sql.SQL(" UNION ALL ").join(parts)
    )


def _q_minutes(table: str, signal: str) -> sql.Composed:
    if table == NARROW:
        return sql.SQL(
            "SELECT date_trunc('minute', time) AS minute, avg(value) AS value FROM {} "
            "WHERE vehicle_id = %(v)s AND signal_id = %(s)s AND time >= %(t0)s AND time < %(t1)s "
            "GROUP BY 1 ORDER BY 1"
        ).format(sql.Identifier(table))
    return sql.SQL(
        "SELECT date_trunc('minute', time) AS minute, avg({c}) AS value FROM {t} "
        "WHERE vehicle_id = %(v)s AND time >= %(t0)s AND time < %(t1)s AND {c} IS NOT NULL "
        "GROUP BY 1 ORDER BY 1"
    ).format(t=sql.Identifier(table), c=sql.Identifier(signal))


QUERIES: dict[str, tuple[str, Callable[[str], sql.Composed]]] = {
    "one_signal_day_1hz": (
        f"{FAST_SIGNAL} of one vehicle over one day",
        lambda t: _q_one_signal(t, FAST_SIGNAL),
    ),
    "one_signal_day_30s": (
        f"{SLOW_SIGNAL} of one vehicle over one day",
        lambda t: _q_one_signal(t, SLOW_SIGNAL),
    ),
    "latest_every_signal": ("latest value of every signal of a vehicle", _q_latest),
    "minute_avg_day": (
        f"1-minute averages of {FAST_SIGNAL} over one day",
        lambda t: _q_minutes(t, FAST_SIGNAL),
    ),
}


def _query_cases(workload: Workload, count: int) -> list[dict[str, Any]]:
    """``count`` vehicles spread over the fleet (and the one reporting the fewest signals),
    each with its busiest UTC day."""
    vehicle = _vehicles(workload)
    ids = np.unique(vehicle)
    picks = list(ids[np.linspace(0, len(ids) - 1, min(count, len(ids))).round().astype(int)])
    # And the car reporting the fewest signals (an EV): in the wide layout, the latest value of
    # a signal it never reports is a search through its whole history.
    signals = {int(v): len(np.unique(workload.signal_id[vehicle == v])) for v in ids}
    picks.append(min(signals, key=lambda v: (signals[v], v)))
    cases = []
    for v in np.unique(picks):
        days = workload.time_ms[vehicle == v] // 86_400_000
        busiest, counts = np.unique(days, return_counts=True)
        day = int(busiest[np.argmax(counts)])
        t0 = dt.datetime.fromtimestamp(day * 86_400, dt.UTC)
        cases.append({"v": int(v), "t0": t0, "t1": t0 + dt.timedelta(days=1)})
    return cases


def _time_query(
    conn: psycopg.Connection, query: sql.Composed, params: dict[str, Any], repeats: int
) -> tuple[float, list[dict[str, Any]]]:
    # Rows by column name in every layout, so the results compare column by column.
    with conn.cursor(row_factory=dict_row) as cur:
        result = cur.execute(query, params, prepare=True).fetchall()  # warm up, plan
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            cur.execute(query, params, prepare=True).fetchall()
            times.append(time.perf_counter() - started)
    return statistics.median(times), result


def _same(a: list[dict[str, Any]], b: list[dict[str, Any]], rel: float) -> bool:
    """Equal results up to ``rel`` relative difference in the floats (``real`` columns)."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if x.keys() != y.keys():
            return False
        for p, q in ((x[k], y[k]) for k in x):
            if isinstance(p, float) and isinstance(q, float):
                if abs(p - q) > rel * max(abs(p), abs(q), 1e-9):
                    return False
            elif p != q:
                return False
    return True


def run_layout(
    database_url: str,
    workload: Workload,
    *,
    repeats: int = 15,
    query_vehicles: int = 12,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Load, size and query both layouts; figures per layout and the narrow/wide ratios."""

    def step(what: str, done: float, total: float) -> None:
        if progress is not None:
            progress(what, done, total)

    step("layout: encoding", 0, 1)
    pivoted = workload_rows(workload, _vehicles(workload))
    streams: dict[str, np.ndarray | bytes] = {
        NARROW: narrow_stream(workload),
        WIDE: wide.encode(pivoted, ">f8"),
        WIDE_REAL: wide.encode(pivoted, ">f4"),
    }
    rows = {NARROW: workload.samples, WIDE: len(pivoted), WIDE_REAL: len(pivoted)}
    samples = pivoted.samples
    step("layout: encoding", 1, 1)
    figures: dict[str, Any] = {
        "samples": samples,
        "vehicles": len(np.unique(pivoted.vehicle)),
        "wide_rows": len(pivoted),
        "wide_null_fraction": round(1 - samples / pivoted.present.size, 3),
        "signals_per_wide_row": round(samples / len(pivoted), 2),
    }
    with db.connect(database_url, autocommit=True) as conn:
        create_tables(conn)
        for i, table in enumerate(LAYOUTS):
            step("layout: COPY", i, len(LAYOUTS))
            checkpoint(conn)  # no load pays for an earlier one's dirty pages
            elapsed = _copy(conn, table, streams[table])
            conn.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(table)))
            sizes = _sizes(conn, table)
            figures[table] = {
                "rows": rows[table],
                "copy_seconds": round(elapsed, 3),
                "copy_samples_per_s": round(samples / elapsed),
                "copy_rows_per_s": round(rows[table] / elapsed),
                "copy_stream_bytes": len(streams[table]),
                **sizes,
                "bytes_per_sample": round(sizes["total_bytes"] / samples, 2),
                "queries_ms": {},
            }
        step("layout: COPY", len(LAYOUTS), len(LAYOUTS))
        cases = _query_cases(workload, query_vehicles)
        ids = [s.id for s in SIGNALS]
        matches = True
        total = len(QUERIES) * len(cases)
        done = 0
        for name, (_, make) in QUERIES.items():
            signal = by_name(FAST_SIGNAL if "30s" not in name else SLOW_SIGNAL)
            assert signal is not None
            per_table: dict[str, list[float]] = {t: [] for t in LAYOUTS}
            for case in cases:
                params = {**case, "s": signal.id, "ids": ids}
                results = {}
                for table in LAYOUTS:
                    median, results[table] = _time_query(conn, make(table), params, repeats)
                    per_table[table].append(median)
                reference = [r for r in results[NARROW] if name != "latest_every_signal" or r]
                for table, rel in ((WIDE, 1e-12), (WIDE_REAL, 1e-6)):
                    got = results[table]
                    if name == "latest_every_signal":  # absent signals: NULL rows in wide
                        got = [r for r in got if r["value"] is not None]
                    matches = matches and _same(reference, got, rel)
                done += 1
                step("layout: queries", done, total)
            for table in LAYOUTS:
                figures[table]["queries_ms"][name] = {
                    "median": round(1000 * statistics.median(per_table[table]), 3),
                    "max": round(1000 * max(per_table[table]), 3),
                }
        for table in LAYOUTS:
            conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table)))
    figures["query_vehicles"] = len(cases)
    figures["repeats"] = repeats
    figures["results_match"] = matches
    figures["queries"] = {name: text for name, (text, _) in QUERIES.items()}
    figures["wide_over_narrow"] = {
        "copy_samples_per_s": round(
            figures[WIDE]["copy_samples_per_s"] / figures[NARROW]["copy_samples_per_s"], 2
        ),
        "bytes_per_sample": round(
            figures[WIDE]["bytes_per_sample"] / figures[NARROW]["bytes_per_sample"], 2
        ),
        **{
            name: round(
                figures[WIDE]["queries_ms"][name]["median"]
                / figures[NARROW]["queries_ms"][name]["median"],
                2,
            )
            for name in QUERIES
        },
    }
    return figures
