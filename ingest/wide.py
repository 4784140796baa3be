# SPDX-License-Identifier: MIT
"""Readings rows, one per (vehicle, timestamp) with a column per catalogue signal, as
PostgreSQL binary COPY data built with numpy.

``readings`` is wide because it measured so (``wrenchlight bench layout``): against one row
per sample it copies 2-3x faster and takes well under half the bytes per sample. A signal not
sampled at a timestamp is NULL. The column of a signal is named after it (``speed_kmh``).

The binary format: a signature, flags and header-extension length; per row a field count and
each field as a big-endian length and bytes, length -1 for NULL; a -1 trailer. Rows differ in
length only by which columns are NULL, and a flush holds few such patterns (fast signals every
second or two, slow ones every 30 s), so the rows of each pattern are one numpy structured
array: no per-row Python. COPY does not care about row order.
"""

from __future__ import annotations

import numpy as np
from psycopg import sql

from telemetry import SIGNALS

COLUMNS: tuple[str, ...] = tuple(s.name for s in SIGNALS)
# Signal wire id → column index; -1 for ids outside the catalogue.
COLUMN_OF = np.full(256, -1, dtype=np.int64)
for _index, _signal in enumerate(SIGNALS):
    COLUMN_OF[_signal.id] = _index

# The statements name a column per catalogue signal, so they are composed with psycopg.sql
# (quoted identifiers) and kept as text: other parts (benchmarks, tests) take them as ``str``.
_COLUMN_LIST = sql.SQL(", ").join(sql.Identifier(name) for name in COLUMNS)
COPY_SQL = (
    sql.SQL("COPY readings (time, vehicle_id, {}) FROM STDIN (FORMAT BINARY)")
    .format(_COLUMN_LIST)
    .as_string()
)
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") * 2
COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)
PG_EPOCH_MS = 946_684_800_000  # 2000-01-01 UTC, timestamptz's zero
# Samples stored (non-NULL values), what a row per sample would count.
SAMPLES_SQL = (
    sql.SQL("SELECT coalesce(sum(num_nonnulls({})), 0) FROM readings")
    .format(_COLUMN_LIST)
    .as_string()
)


class Rows:
    """Samples pivoted to one row per (vehicle, time): ``values[row, column]`` where
    ``present[row, column]``."""

    __slots__ = ("present", "time_ms", "values", "vehicle")

    def __init__(
        self, vehicle: np.ndarray, time_ms: np.ndarray, values: np.ndarray, present: np.ndarray
    ) -> None:
        self.vehicle = vehicle
        self.time_ms = time_ms
        self.values = values
        self.present = present

    def __len__(self) -> int:
        return len(self.time_ms)

    @property
    def samples(self) -> int:
        """Non-NULL values: what a row per sample would have held."""
        return int(self.present.sum())


def pivot(
    vehicle: np.ndarray, time_ms: np.ndarray, signal_id: np.ndarray, value: np.ndarray
) -> Rows:
    """One row per distinct (vehicle, time) of the samples, and no sample lost: where one
    signal has several samples at one instant of one vehicle (two batches of a confused
    device), the second goes to a second row of that instant, and so on."""
    if len(value) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Rows(empty, empty, np.zeros((0, len(COLUMNS))), np.zeros((0, len(COLUMNS)), bool))
    columns = COLUMN_OF[signal_id]
    if (columns < 0).any():
        raise ValueError(f"signal ids outside the catalogue: {sorted(set(signal_id[columns < 0]))}")
    order = np.lexsort((columns, time_ms, vehicle))
    v, t, c = vehicle[order], time_ms[order], columns[order]
    same_instant = (v[1:] == v[:-1]) & (t[1:] == t[:-1])
    repeat = np.zeros(len(order), dtype=np.int64)
    repeated = same_instant & (c[1:] == c[:-1])
    if repeated.any():
        # The k-th sample of a (vehicle, time, signal) run goes to the instant's k-th row.
        index = np.arange(len(order))
        run_start = np.maximum.accumulate(np.where(np.r_[True, ~repeated], index, 0))
        repeat = index - run_start
        again = np.lexsort((repeat, t, v))
        order, v, t, c, repeat = order[again], v[again], t[again], c[again], repeat[again]
        same_instant = (v[1:] == v[:-1]) & (t[1:] == t[:-1]) & (repeat[1:] == repeat[:-1])
    starts = np.r_[True, ~same_instant]
    row = np.cumsum(starts) - 1
    n = int(row[-1]) + 1
    values = np.zeros((n, len(COLUMNS)))
    present = np.zeros((n, len(COLUMNS)), dtype=bool)
    values[row, c] = value[order]
    present[row, c] = True
    return Rows(v[starts].astype(np.int64), t[starts].astype(np.int64), values, present)


def _row_dtype(pattern: np.ndarray, value_type: str) -> np.dtype:
    fields: list[tuple[str, str]] = [
        ("fields", ">i2"),
        ("time_len", ">i4"),
        ("time", ">i8"),
        ("vehicle_len", ">i4"),
        ("vehicle", ">i8"),
    ]
    for j, here in enumerate(pattern):
        fields.append((f"len{j}", ">i4"))
        if here:
            fields.append((f"v{j}", value_type))
    return np.dtype(fields)


def encode(rows: Rows, value_type: str = ">f8") -> bytes:
    """The rows as binary COPY tuples (without header and trailer); values as ``value_type``
    (``>f8`` for double precision columns, ``>f4`` for real)."""
    if len(rows) == 0:
        return b""
    k = len(COLUMNS)
    codes = rows.present.astype(np.int64) @ (np.int64(1) << np.arange(k, dtype=np.int64))
    patterns, which = np.unique(codes, return_inverse=True)
    parts = []
    for p, code in enumerate(patterns):
        members = np.flatnonzero(which == p)
        pattern = (int(code) >> np.arange(k)) & 1
        out = np.empty(len(members), dtype=_row_dtype(pattern, value_type))
        out["fields"] = 2 + k
        out["time_len"] = 8
        out["time"] = (rows.time_ms[members] - PG_EPOCH_MS) * 1000
        out["vehicle_len"] = 8
        out["vehicle"] = rows.vehicle[members]
        for j in range(k):
            if pattern[j]:
                out[f"len{j}"] = out.dtype[f"v{j}"].itemsize
                out[f"v{j}"] = rows.values[members, j]
            else:
                out[f"len{j}"] = -1
        parts.append(out.tobytes())
    return b"".join(parts)


def copy_data(rows: Rows) -> bytes:
    """A whole binary COPY stream, header to trailer."""
    return COPY_HEADER + encode(rows) + COPY_TRAILER
