# SPDX-License-Identifier: MIT
"""Throughput of the pipeline, side by side with one transaction per message and with a bare
binary COPY of the same rows (the physical limit), on one database in one run.

    python -m ingest.bench postgresql://.../db   # a migrated database; adds its own rows
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg

import db
from db import registry
from ingest.message import Message
from ingest.pipeline import prepare, process_message, process_messages
from ingest.store import to_datetime
from telemetry import Batch, Series, encode, topics

SPEED_ID = 0x0D  # speed_kmh
SIGNAL_NAMES = ("speed_kmh", "engine_rpm", "coolant_temp_c", "throttle_pct", "odometer_km")


def make_messages(
    conn: psycopg.Connection,
    *,
    devices: int,
    per_device: int,
    samples: int,
) -> list[Message]:
    """Binary batches of ``samples`` one-second samples per signal for fresh devices."""
    now_ms = int(time.time() * 1000)
    messages = []
    for d in range(devices):
        device_id = f"bench-{uuid.uuid4().hex[:10]}-{d}"
        vehicle_id = registry.create_vehicle(conn, vin="WB" + uuid.uuid4().hex[:15].upper())
        registry.register_device(conn, device_id=device_id, vehicle_id=vehicle_id)
        for seq in range(per_device):
            base = now_ms - (per_device - seq) * samples * 1000
            offsets = tuple(i * 1000 for i in range(samples))
            series = tuple(
                Series(name, offsets, tuple(float(i % 100) for i in range(samples)))
                for name in SIGNAL_NAMES
            )
            payload = encode(Batch(device_id, seq, "", base, series))
            messages.append(
                Message(topics.topic(device_id, "telemetry"), payload, datetime.now(UTC))
            )
    return messages


def timed(label: str, n_samples: int, run: Callable[[], object]) -> float:
    """Run once and print samples per second."""
    start = time.perf_counter()
    run()
    rate = n_samples / (time.perf_counter() - start)
    print(f"{label:<44} {rate:>12,.0f} samples/s")
    return rate


def main(database_url: str, *, flush: int = 500, samples: int = 40) -> None:
    """Print the three rates and their ratios."""
    with db.connect(database_url, autocommit=True) as conn:
        prepare(conn)
        per_sample = samples * len(SIGNAL_NAMES)
        batched = make_messages(conn, devices=50, per_device=40, samples=samples)
        single = make_messages(conn, devices=10, per_device=40, samples=samples)
        rows = [
            (to_datetime(1_700_000_000_000 + i * 1000), 1, SPEED_ID, 1.0)
            for i in range(len(batched) * per_sample)
        ]

        def pipeline_batched() -> None:
            for i in range(0, len(batched), flush):
                process_messages(conn, messages=batched[i : i + flush])

        def pipeline_single() -> None:
            for m in single:
                process_message(conn, topic=m.topic, payload=m.payload, received_at=m.received_at)

        def bare_copy() -> None:
            with (
                conn.transaction(),
                conn.cursor() as cur,
                cur.copy(
                    "COPY readings (time, vehicle_id, signal_id, value) FROM STDIN (FORMAT BINARY)"
                ) as copy,
            ):
                copy.set_types(["timestamptz", "int8", "int2", "float8"])
                for row in rows:
                    copy.write_row(row)

        print(f"{len(batched)} messages of {per_sample} samples, flushes of {flush}")
        ours = timed(
            f"pipeline, {flush} messages per transaction",
            len(batched) * per_sample,
            pipeline_batched,
        )
        one = timed(
            "pipeline, one message per transaction", len(single) * per_sample, pipeline_single
        )
        limit = timed("bare binary COPY of the same number of rows", len(rows), bare_copy)
        print(f"batched / single = {ours / one:.1f}x; batched / bare COPY = {ours / limit:.2f}")
        conn.execute(
            "DELETE FROM readings WHERE time = ANY(%s) AND vehicle_id = 1", ([r[0] for r in rows],)
        )


if __name__ == "__main__":
    main(sys.argv[1])
