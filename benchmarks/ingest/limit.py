# SPDX-License-Identifier: MIT
"""The limit: a binary ``COPY`` of the workload's rows straight into ``readings``."""

from __future__ import annotations

import time
from typing import Any

import db
from benchmarks.ingest.pgcopy import COPY_SQL, copy_encoded, copy_rows
from benchmarks.ingest.phase import reset, scalar
from benchmarks.ingest.workload import Workload
from ingest.wide import SAMPLES_SQL


def run_limit(database_url: str, workload: Workload) -> dict[str, Any]:
    """Binary COPY of every sample, as ``readings`` rows, straight into ``readings``: the
    database's own speed."""
    rows = copy_rows(workload)
    with db.connect(database_url, autocommit=True) as conn:
        reset(conn)
        started = time.perf_counter()
        copy_encoded(conn, COPY_SQL, rows)
        elapsed = time.perf_counter() - started
        stored = scalar(conn, SAMPLES_SQL)
    if stored != workload.samples:
        raise RuntimeError(f"COPY stored {stored} samples, expected {workload.samples}")
    return {
        "samples": workload.samples,
        "seconds": round(elapsed, 3),
        "samples_per_s": round(workload.samples / elapsed),
        "copy_bytes_per_sample": round(len(rows) / workload.samples, 2),
    }
