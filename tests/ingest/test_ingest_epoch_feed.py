# SPDX-License-Identifier: MIT
"""The demo feed buffers in memory, so every run counts from 0: a second run over the same
devices is stored, not dropped as duplicates of the first."""

from __future__ import annotations

import datetime as dt
import time
from contextlib import ExitStack

from rich.console import Console

from db import registry
from firmware_sim.daily_driving import make_fleet
from ingest import IngestWorker
from wrenchlight.feed import Sampling, drive_fleet


def test_a_second_feed_run_is_stored_too(db_url, conn, quiet_broker, unique_id):
    fleet = make_fleet(1, seed=3)
    device_id = f"{unique_id}-sim"
    vehicle_id = registry.create_vehicle(conn, vin=fleet[0].vehicle.spec.vin)
    registry.register_device(conn, device_id=device_id, vehicle_id=vehicle_id)
    today = dt.datetime.now(dt.UTC).date()
    runs = []
    with IngestWorker(
        db_url,
        quiet_broker,
        client_id=f"{unique_id}-w",
        group=unique_id,
        session_expiry_s=0,
        flush_interval_s=0.05,
    ) as worker:
        for days_ago in (3, 2):
            with ExitStack() as stack:
                stats = drive_fleet(
                    fleet,
                    [device_id],
                    today - dt.timedelta(days=days_ago),
                    1,
                    mqtt_url=quiet_broker,
                    seed=days_ago,
                    sampling=Sampling(),
                    console=Console(quiet=True),
                    stack=stack,
                    drain_timeout_s=30,
                )
            assert stats.drained and stats.batches_published > 0
            runs.append(stats.batches_published)
        total = sum(runs)
        deadline = time.monotonic() + 20
        while worker.stats.batches + worker.stats.duplicates + worker.stats.dead_letters < total:
            assert time.monotonic() < deadline, worker.stats.snapshot()
            time.sleep(0.05)
    assert (worker.stats.batches, worker.stats.duplicates, worker.stats.dead_letters) == (
        total,
        0,
        0,
    )
    epochs = conn.execute(
        "SELECT count(DISTINCT epoch), min(seq) FROM batches WHERE device_id = %s", (device_id,)
    ).fetchone()
    assert epochs == (2, 0)
