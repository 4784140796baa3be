# SPDX-License-Identifier: MIT
"""A vehicle's time series of one signal, from the rollups or the raw readings.

``readings_1m`` and ``readings_1h`` are TimescaleDB's continuous aggregates, or the rollup
tables ingest keeps on plain PostgreSQL; both are wide (``<signal>_avg``, ``_min``, ``_max``,
``_n`` per bucket), so a series is one index range scan of one vehicle. Daily buckets are
summed from the hourly ones. Each bucket size has a longest time range, so no request reads
more than a few thousand rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import psycopg
from psycopg import sql

from db.rows import records
from telemetry import SIGNALS, by_name

SignalName = StrEnum("SignalName", {s.name: s.name for s in SIGNALS})  # type: ignore[misc]


class Bucket(StrEnum):
    raw = "raw"
    minute = "1m"
    hour = "1h"
    day = "1d"


# The longest range each bucket serves: ~86,400 raw points at 1 Hz, ~10,000 minutes,
# ~2,200 hours, 400 days.
MAX_RANGE = {
    Bucket.raw: timedelta(days=1),
    Bucket.minute: timedelta(days=7),
    Bucket.hour: timedelta(days=92),
    Bucket.day: timedelta(days=400),
}


class RangeTooLong(ValueError):
    """The asked time range exceeds what its bucket serves."""


@dataclass(frozen=True)
class Series:
    """Points of one signal: (bucket start, avg, min, max, samples)."""

    signal: str
    unit: str
    bucket: Bucket
    start: datetime
    end: datetime
    points: list[tuple[datetime, float, float, float, int]]


@dataclass(frozen=True, slots=True)
class _Point:
    """One bucket of a series as the queries below name it."""

    t: datetime
    avg: float
    low: float
    high: float
    n: int


def _query(bucket: Bucket, column: str) -> sql.Composed:
    c = sql.Identifier(column)
    if bucket is Bucket.raw:
        return sql.SQL(
            "SELECT time AS t, {c} AS avg, {c} AS low, {c} AS high, 1 AS n FROM readings "
            "WHERE vehicle_id = %(v)s "
            "AND time >= %(start)s AND time < %(end)s AND {c} IS NOT NULL ORDER BY time"
        ).format(c=c)
    avg, low, high, n = (sql.Identifier(f"{column}_{part}") for part in ("avg", "min", "max", "n"))
    if bucket is Bucket.day:
        return sql.SQL(
            "SELECT date_trunc('day', bucket) AS t, sum({avg} * {n}) / sum({n}) AS avg, "
            "min({low}) AS low, max({high}) AS high, sum({n})::bigint AS n FROM readings_1h "
            "WHERE vehicle_id = %(v)s "
            "AND bucket >= %(start)s AND bucket < %(end)s AND {n} > 0 GROUP BY 1 ORDER BY 1"
        ).format(avg=avg, low=low, high=high, n=n)
    table = sql.Identifier("readings_1m" if bucket is Bucket.minute else "readings_1h")
    return sql.SQL(
        "SELECT bucket AS t, {avg} AS avg, {low} AS low, {high} AS high, {n} AS n FROM {table} "
        "WHERE vehicle_id = %(v)s "
        "AND bucket >= %(start)s AND bucket < %(end)s AND {n} > 0 ORDER BY bucket"
    ).format(avg=avg, low=low, high=high, n=n, table=table)


def series(
    conn: psycopg.Connection,
    *,
    vehicle_id: int,
    signal: str,
    bucket: Bucket,
    start: datetime,
    end: datetime,
) -> Series:
    """The series of ``signal`` in [start, end); raises RangeTooLong past MAX_RANGE."""
    found = by_name(signal)
    if found is None:
        raise ValueError(f"unknown signal {signal!r}")
    if end - start > MAX_RANGE[bucket]:
        raise RangeTooLong(
            f"bucket {bucket.value} serves at most {MAX_RANGE[bucket].days} days; "
            f"asked for {(end - start).total_seconds() / 86400:.1f}"
        )
    params: dict[str, Any] = {"v": vehicle_id, "start": start, "end": end}
    rows = records(conn, _Point, _query(bucket, found.name), params)
    return Series(
        signal=found.name,
        unit=found.unit,
        bucket=bucket,
        start=start,
        end=end,
        points=[(p.t, float(p.avg), float(p.low), float(p.high), int(p.n)) for p in rows],
    )
