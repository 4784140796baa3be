# SPDX-License-Identifier: MIT
"""Every competitor in turn on the same workload, and the targets the figures are held to."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.ingest.limit import run_limit
from benchmarks.ingest.naive import run_naive
from benchmarks.ingest.ours import run_ours
from benchmarks.ingest.phase import Progress
from benchmarks.ingest.workload import Workload

TARGETS = {
    "ours_over_naive_min": 30.0,
    "ours_over_limit_min": 0.5,
    "p99_commit_latency_s_max": 1.0,
    "worker_rss_mb_max": 300.0,
}


def run_all(
    database_url: str,
    mqtt_url: str,
    workload: Workload,
    *,
    seconds: float = 10.0,
    workers: Sequence[int] = (1, 2),
    latency_fraction: float = 0.5,
    profile_path: Path | None = None,
    naive_max_samples: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Every competitor in turn on the same workload; a flat dict of figures and ratios."""
    naive = run_naive(
        database_url,
        mqtt_url,
        workload,
        seconds=seconds,
        max_samples=naive_max_samples or int(seconds * 20_000),
        progress=progress,
    )
    ours_by_workers = {
        w: run_ours(
            database_url,
            mqtt_url,
            workload,
            workers=w,
            label=f"ours, {w} worker{'s' if w > 1 else ''}",
            progress=progress,
        )
        for w in workers
    }
    best = max(ours_by_workers.values(), key=lambda r: r["samples_per_s"])
    limit = run_limit(database_url, workload)
    if progress is not None:
        progress("limit", 1, 1)
    latency = run_ours(
        database_url,
        mqtt_url,
        workload,
        workers=best["workers"],
        pace_samples_per_s=best["samples_per_s"] * latency_fraction,
        max_seconds=seconds,
        label=f"latency at {latency_fraction:.0%} rate",
        progress=progress,
    )
    profile = None
    if profile_path is not None:
        profile = run_ours(
            database_url,
            mqtt_url,
            workload,
            workers=1,
            profile_path=profile_path,
            label="ours under cProfile",
            progress=progress,
        )
    ours_rate = best["samples_per_s"]
    figures: dict[str, Any] = {
        "naive_samples_per_s": naive["samples_per_s"],
        "ours_samples_per_s": ours_rate,
        "limit_samples_per_s": limit["samples_per_s"],
        "p99_commit_latency_s": latency["latency_s"]["p99"],
        "worker_rss_mb": best["worker_rss_mb"],
        # CPU seconds of the bench database's whole server in the best run; None when the
        # server is not on this machine (its processes cannot be seen).
        "postgres_server_cpu_s": best["cpu_s"]["postgres_server"],
        "ours_over_naive": round(ours_rate / naive["samples_per_s"], 1),
        "ours_over_limit": round(ours_rate / limit["samples_per_s"], 3),
        "ours_workers": best["workers"],
        "ours_by_workers": {str(w): r["samples_per_s"] for w, r in ours_by_workers.items()},
        "samples": workload.samples,
        "batches": workload.batches,
        "devices": len(workload.device_ids),
        "wire_bytes_per_sample": round(workload.payload_bytes / workload.samples, 3),
        "naive": naive,
        "ours": {str(w): r for w, r in ours_by_workers.items()},
        "limit": limit,
        "latency": latency,
        "targets": TARGETS,
    }
    if profile is not None:
        figures["profiled_run"] = profile
    figures["targets_met"] = {
        "ours_over_naive": figures["ours_over_naive"] >= TARGETS["ours_over_naive_min"],
        "ours_over_limit": figures["ours_over_limit"] >= TARGETS["ours_over_limit_min"],
        "p99_commit_latency_s": figures["p99_commit_latency_s"]
        <= TARGETS["p99_commit_latency_s_max"],
        "worker_rss_mb": (figures["worker_rss_mb"] or 0) <= TARGETS["worker_rss_mb_max"],
    }
    return figures
