# SPDX-License-Identifier: MIT
"""PostgreSQL's binary COPY of ``readings`` rows, encoded with numpy before any clock starts."""

from __future__ import annotations

import numpy as np
import psycopg
from psycopg.abc import Query

from benchmarks.ingest.workload import Workload
from ingest import wide
from ingest.wide import COPY_HEADER, COPY_SQL, COPY_TRAILER

__all__ = ["COPY_SQL", "copy_encoded", "copy_rows", "workload_rows"]

COPY_CHUNK_BYTES = 1 << 20


def workload_rows(workload: Workload, vehicle: np.ndarray | None = None) -> wide.Rows:
    """The workload's samples as ``readings`` rows (one per vehicle and timestamp).

    ``vehicle`` is each sample's vehicle id; by default the registered vehicles'.
    """
    return wide.pivot(
        workload.row_vehicle() if vehicle is None else vehicle,
        workload.time_ms,
        workload.signal_id.astype(np.int64),
        workload.value,
    )


def copy_rows(workload: Workload, vehicle: np.ndarray | None = None) -> bytes:
    """Every row of the workload in PostgreSQL's binary COPY tuple format, as one stream."""
    return wide.encode(workload_rows(workload, vehicle))


def copy_encoded(conn: psycopg.Connection, statement: Query, data: np.ndarray | bytes) -> None:
    """One transaction, one COPY of an already encoded binary stream (without header/trailer)."""
    raw = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes) else data.view(np.uint8)
    with conn.transaction(), conn.cursor() as cur, cur.copy(statement) as copy:
        copy.write(COPY_HEADER)
        for i in range(0, len(raw), COPY_CHUNK_BYTES):
            copy.write(raw[i : i + COPY_CHUNK_BYTES].data)
        copy.write(COPY_TRAILER)
