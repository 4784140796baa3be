# SPDX-License-Identifier: MIT
"""Ours: the binary batches through the broker to spawned ``IngestWorker``s, timed to commit."""

from __future__ import annotations

import multiprocessing as mp
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

import db
from benchmarks.ingest.cpu import (
    CpuSnapshot,
    broker_pids,
    cpu_report,
    server_processes,
    worker_backends,
)
from benchmarks.ingest.phase import Progress, reset, scalar
from benchmarks.ingest.publisher import Publisher
from benchmarks.ingest.workers import Commits, Workers, WorkerSpec
from benchmarks.ingest.workload import Workload
from telemetry import topics

# Batches published but not yet committed. Each worker takes up to 1000 in flight (its Receive
# Maximum); 500 more may wait in the broker's queue for it while it commits.
OURS_WINDOW_PER_WORKER = 1500


def run_ours(
    database_url: str,
    mqtt_url: str,
    workload: Workload,
    *,
    workers: int = 1,
    pace_samples_per_s: float | None = None,
    max_seconds: float | None = None,
    profile_path: Path | None = None,
    label: str = "ours",
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Publish the batches to ``workers`` spawned IngestWorkers and time until all committed.

    With ``pace_samples_per_s`` publishing is paced to that rate (for latency) and stops after
    ``max_seconds`` of it; otherwise every batch is published as fast as the window allows.
    """
    run_id = uuid.uuid4().hex[:8]
    n = workload.batches
    cum = workload.row_start[:-1] if pace_samples_per_s else None
    if pace_samples_per_s and max_seconds:
        n = max(1, int(np.searchsorted(workload.row_start[:-1], pace_samples_per_s * max_seconds)))
    keys = {workload.key(b): b for b in range(n)}
    commits = Commits(keys)
    ctx = mp.get_context("spawn")  # a fresh interpreter: none of the pre-generated data
    specs = [
        WorkerSpec(
            database_url,
            mqtt_url,
            client_id=f"wl-bench-{run_id}-{i}",
            group=f"bench-{run_id}",
            profile_path=str(profile_path) if profile_path and i == 0 else None,
        )
        for i in range(workers)
    ]
    with db.connect(database_url, autocommit=True) as conn:
        reset(conn)
        pool = Workers(ctx, specs, commits)
        try:
            pool.start()
            backends = worker_backends(conn)  # more may connect later (upkeep)
            topics_ = [topics.topic(d, "telemetry") for d in workload.device_ids]
            publisher = Publisher(mqtt_url, f"wl-bench-pub-{run_id}")
            window = OURS_WINDOW_PER_WORKER * workers
            published_at = np.zeros(n)

            def tick() -> None:
                if progress is not None:
                    progress(label, commits.done, n)

            brokers = broker_pids(mqtt_url)
            worker_pids = {p.pid for p in pool.procs if p.pid is not None}
            before = CpuSnapshot.take(list(backends), brokers, server_processes(conn))
            first = time.time()
            start_mono = time.monotonic()
            try:
                for b in range(n):
                    if cum is not None and pace_samples_per_s:
                        delay = start_mono + cum[b] / pace_samples_per_s - time.monotonic()
                        if delay > 0:
                            time.sleep(delay)
                    if b - commits.done >= window:
                        commits.wait_done(b - window + 1, "publishing", tick)
                    published_at[b] = time.time()
                    publisher.publish(topics_[workload.batch_device[b]], workload.payloads[b])
                    if b % 50 == 0:
                        tick()
                commits.wait_done(n, "committing", tick)
                backends.update(worker_backends(conn))
                after = CpuSnapshot.take(list(backends), brokers, server_processes(conn))
                publisher.wait_acknowledged(10)
            finally:
                publisher.close()
            if progress is not None:
                progress(label, commits.done, n)
            stored_samples = scalar(
                conn,
                "SELECT COALESCE(sum(n_samples), 0) FROM batches WHERE device_id = ANY(%s)",
                (workload.device_ids,),
            )
        finally:
            finals = pool.close()
    elapsed = commits.last_commit - first
    expected = int(workload.batch_samples[:n].sum())
    latency = commits.committed_at - published_at
    result: dict[str, Any] = {
        "workers": workers,
        "batches": n,
        "samples": expected,
        "seconds": round(elapsed, 3),
        "samples_per_s": round(commits.samples / elapsed) if elapsed > 0 else 0,
        "stored_samples": stored_samples,
        "dead_letters": commits.dead_letters,
        "duplicates": commits.duplicates,
        "foreign_messages": commits.foreign,
        "latency_s": {
            "p50": round(float(np.percentile(latency, 50)), 4),
            "p99": round(float(np.percentile(latency, 99)), 4),
            "max": round(float(latency.max()), 4),
        },
        "worker_rss_mb": max((f["peak_rss_mb"] for f in finals.values()), default=None),
        "cpu_s": cpu_report(before, after, finals, backends, worker_pids),
    }
    if pace_samples_per_s:
        result["paced_samples_per_s"] = round(pace_samples_per_s)
    if stored_samples != expected or commits.dead_letters:
        raise RuntimeError(
            f"{label}: stored {stored_samples} of {expected} samples, "
            f"{commits.dead_letters} dead letters"
        )
    return result
