# SPDX-License-Identifier: MIT
"""PostgreSQL's binary COPY of ``readings`` rows, encoded with numpy before any clock starts."""

from __future__ import annotations

import numpy as np
import psycopg
from psycopg.abc import Query

from ingest.bench.workload import Workload

COPY_SQL = "COPY readings (time, vehicle_id, signal_id, value) FROM STDIN (FORMAT BINARY)"
# PostgreSQL's binary COPY: signature, flags, header extension length; a -1 field count ends it.
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
COPY_TRAILER = b"\xff\xff"
PG_EPOCH_MS = 946_684_800_000  # 2000-01-01 UTC, timestamptz's zero
# One readings row in binary COPY: field count, then (length, big-endian value) per column.
COPY_ROW = np.dtype(
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
COPY_CHUNK_BYTES = 1 << 20


def copy_rows(workload: Workload, vehicle: np.ndarray | None = None) -> np.ndarray:
    """Every row of the workload in PostgreSQL's binary COPY tuple format, as one array.

    ``vehicle`` is each row's vehicle id; by default the registered vehicles'.
    """
    rows = np.empty(workload.samples, dtype=COPY_ROW)
    rows["fields"] = 4
    rows["time_len"] = 8
    rows["time"] = (workload.time_ms - PG_EPOCH_MS) * 1000  # microseconds since 2000
    rows["vehicle_len"] = 8
    rows["vehicle"] = workload.row_vehicle() if vehicle is None else vehicle
    rows["signal_len"] = 2
    rows["signal"] = workload.signal_id
    rows["value_len"] = 8
    rows["value"] = workload.value
    return rows


def copy_encoded(conn: psycopg.Connection, statement: Query, data: np.ndarray | bytes) -> None:
    """One transaction, one COPY of an already encoded binary stream (without header/trailer)."""
    raw = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes) else data.view(np.uint8)
    with conn.transaction(), conn.cursor() as cur, cur.copy(statement) as copy:
        copy.write(COPY_HEADER)
        for i in range(0, len(raw), COPY_CHUNK_BYTES):
            copy.write(raw[i : i + COPY_CHUNK_BYTES].data)
        copy.write(COPY_TRAILER)
