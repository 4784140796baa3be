# SPDX-License-Identifier: MIT
"""Plain-PostgreSQL upkeep that TimescaleDB does with its own jobs: refreshing the rollups
from the queue ingest fills, and dropping partitions past the retention policy.

Runs on its own thread and connection in every worker process; several can run at once
(the queue is taken with SKIP LOCKED, partition drops are idempotent). It never blocks or
fails ingest: an error is logged and retried next round.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from datetime import UTC, datetime

import psycopg

import db
from db.policies import current_policy
from db.rows import scalar

log = logging.getLogger(__name__)

# Rollups lag the readings by at most about this much while ingest keeps up.
REFRESH_INTERVAL_S = 5.0
# Queued (vehicle, hour) rows taken per transaction: short transactions, bounded locks.
REFRESH_CHUNK = 200
RETENTION_INTERVAL_S = 3600.0


def refresh_rollups(conn: psycopg.Connection, *, max_rounds: int = 1000) -> int:
    """Refresh queued rollups until the queue is empty (or max_rounds); returns rows taken."""
    total = 0
    for _ in range(max_rounds):
        with conn.transaction():
            taken = scalar(conn, "SELECT wl_refresh_rollup_queue(%s)", (REFRESH_CHUNK,))
        n = int(taken) if taken is not None else 0
        total += n
        if n < REFRESH_CHUNK:
            break
    return total


def enforce_retention(conn: psycopg.Connection, *, now: datetime) -> int:
    """Drop the readings partitions older than the policy's retention at ``now`` (ingest's
    clock, which also judges arrivals and makes partitions); returns how many."""
    policy = current_policy(conn)
    with conn.transaction():
        dropped = scalar(
            conn, "SELECT wl_drop_partitions(%s - %s::interval)", (now, policy.retention)
        )
    return int(dropped) if dropped is not None else 0


# How often ``stop`` repeats its cancel while the refresh has not ended.
CANCEL_AGAIN_S = 0.5


class Upkeep:
    """The upkeep thread of one worker process (plain PostgreSQL only)."""

    def __init__(self, database_url: str, *, name: str = "ingest-upkeep") -> None:
        self._url = database_url
        self._stop = threading.Event()
        self._conn: psycopg.Connection | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    @staticmethod
    def needed(conn: psycopg.Connection) -> bool:
        """True on plain PostgreSQL (TimescaleDB keeps its aggregates and retention itself)."""
        return not db.has_timescaledb(conn)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop, cancelling a refresh in progress (it is redone from the queue next time)."""
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        while self._thread.is_alive() and (left := deadline - time.monotonic()) > 0:
            conn = self._conn
            if conn is not None and not conn.closed:
                # Again until the thread ends: a cancel that reaches the server before the
                # refresh's query does cancels nothing, and the query then runs its course.
                with contextlib.suppress(psycopg.Error):  # already gone: nothing to cancel
                    conn.cancel_safe()
            self._thread.join(min(CANCEL_AGAIN_S, left))

    def _run(self) -> None:
        retention_at = 0.0
        while not self._stop.wait(REFRESH_INTERVAL_S):
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = db.connect(self._url, autocommit=True)
                started = time.perf_counter()
                rows = refresh_rollups(self._conn)
                if rows:
                    log.debug(
                        "refreshed rollups of %d queued vehicle-hours in %.2f s",
                        rows,
                        time.perf_counter() - started,
                    )
                if time.monotonic() >= retention_at:
                    dropped = enforce_retention(self._conn, now=datetime.now(UTC))
                    if dropped:
                        log.info("retention: dropped %d readings partitions", dropped)
                    retention_at = time.monotonic() + RETENTION_INTERVAL_S
            except psycopg.Error as exc:
                if self._stop.is_set():
                    break  # cancelled by stop(): the queue keeps what was not refreshed
                log.warning("upkeep failed, retrying in %.0f s: %s", REFRESH_INTERVAL_S, exc)
                if self._conn is not None:
                    self._conn.close()
                self._conn = None
        if self._conn is not None:
            self._conn.close()
