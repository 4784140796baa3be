# SPDX-License-Identifier: MIT
"""Prometheus metrics of the ingest workers.

A worker process records into these; ``wrenchlight ingest`` serves them at ``/metrics``. With
several worker processes, prometheus_client's multi-process mode (``PROMETHEUS_MULTIPROC_DIR``,
set by the supervisor before it starts the workers) sums them across processes.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES = Counter("wl_ingest_messages", "MQTT messages received", ["kind"])
BATCHES = Counter("wl_ingest_batches", "Telemetry batches stored and committed")
SAMPLES = Counter("wl_ingest_samples", "Readings written and committed")
DUPLICATES = Counter(
    "wl_ingest_duplicates", "Batches dropped as already stored (device, epoch, seq)"
)
DEAD_LETTERS = Counter(
    "wl_ingest_dead_letters", "Messages rejected into the dead-letter table", ["reason"]
)
RETRIES = Counter("wl_ingest_db_retries", "Flushes retried after a database error")
FLUSH_MESSAGES = Histogram(
    "wl_ingest_flush_messages",
    "Messages per committed flush (one transaction)",
    buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000),
)
FLUSH_SECONDS = Histogram(
    "wl_ingest_flush_seconds",
    "Time to run the pipeline and commit one flush",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
COMMIT_LAG = Histogram(
    "wl_ingest_commit_lag_seconds",
    "From a message's arrival at the worker to the commit of its rows",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
SAMPLE_AGE = Histogram(
    "wl_ingest_sample_age_seconds",
    "From a batch's newest sample to its commit (device buffering plus transit plus ingest)",
    buckets=(1, 5, 15, 30, 60, 120, 300, 900, 3600, 86400),
)
QUEUE_DEPTH = Gauge(
    "wl_ingest_queue_depth",
    "Messages received and not yet committed",
    multiprocess_mode="livesum",
)
DATABASE_UP = Gauge(
    "wl_ingest_database_up",
    "1 while the worker's last database operation succeeded",
    multiprocess_mode="livemin",
)


def reason_class(reason: str) -> str:
    """The fixed prefix of a dead-letter reason ('out of range: …' → 'out of range'), so the
    label has a handful of values however varied the messages are."""
    head, colon, _ = reason.partition(":")
    # Every reason ingest writes has a short fixed head before its colon; anything else must
    # not become a label value of its own.
    return head if colon and len(head) <= 30 and head.replace(" ", "").isalpha() else "other"
