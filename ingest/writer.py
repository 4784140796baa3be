# SPDX-License-Identifier: MIT
"""The writer thread: takes received messages in flushes, commits, then acknowledges."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

import db
from ingest import metrics
from ingest.message import Message, Outcome
from ingest.pipeline import prepare, process_messages
from ingest.stats import Stats
from ingest.window import SendWindow

log = logging.getLogger(__name__)

# A flush ends at FLUSH_MESSAGES messages or FLUSH_INTERVAL_S after its first message,
# whichever comes first. 500 batches of a typical agent (a few hundred samples each) make one
# COPY of ~100k rows, which amortises the commit; 0.2 s bounds the latency a quiet fleet adds.
FLUSH_MESSAGES = 500
FLUSH_INTERVAL_S = 0.2
# Database trouble is retried forever (the broker holds the messages meanwhile), backing off
# from RETRY_MIN_S to RETRY_MAX_S so a restarting database is not hammered.
RETRY_MIN_S = 0.5
RETRY_MAX_S = 30.0
# Partitions ahead of the clock and the signal catalogue are refreshed this often.
UPKEEP_INTERVAL_S = 6 * 3600
# The counters go to the log at INFO this often while messages flow: a heartbeat for operators
# without flooding the log at thousands of flushes a minute.
REPORT_INTERVAL_S = 60.0


# Called after each commit and acknowledgement with the flush's outcomes and the wall-clock
# time (time.time()) of the commit: benchmarks time publish-to-commit with it.
OnCommit = Callable[[list[Outcome], float], object]


@dataclass(frozen=True, slots=True)
class Received:
    """A message and what is needed to acknowledge it."""

    message: Message
    mid: int
    qos: int


class Writer:
    """Drains a queue of received messages into the database on its own thread."""

    def __init__(
        self,
        database_url: str,
        inbox: queue.Queue[Received],
        *,
        ack: Callable[[int, int], object],
        stats: Stats,
        flush_messages: int = FLUSH_MESSAGES,
        flush_interval_s: float = FLUSH_INTERVAL_S,
        name: str = "ingest-writer",
        on_commit: OnCommit | None = None,
    ) -> None:
        self._url = database_url
        self._inbox = inbox
        self._ack = ack
        self._stats = stats
        self._flush_messages = flush_messages
        self._flush_interval_s = flush_interval_s
        self._window = SendWindow(flush_interval_s)
        self._on_commit = on_commit
        self._conn: psycopg.Connection | None = None
        self._stopping = threading.Event()
        self._abandon = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._upkeep_at = 0.0
        self._report_at = time.monotonic() + REPORT_INTERVAL_S

    def start(self) -> None:
        """Connect, prepare the database, and start the thread; database errors raise here."""
        self._connection()
        self._thread.start()

    def stop(self, *, timeout_s: float) -> bool:
        """Write what is queued and stop; False if that did not finish within ``timeout_s``."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        if self._thread.is_alive():
            self._abandon.set()  # give up retrying; unacknowledged messages are redelivered
            self._thread.join(5)
            return False
        return True

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = db.connect(self._url, autocommit=True)
        if time.monotonic() >= self._upkeep_at:
            prepare(self._conn)
            self._upkeep_at = time.monotonic() + UPKEEP_INTERVAL_S
        return self._conn

    def _run(self) -> None:
        try:
            while not self._abandon.is_set():
                flush = self._collect()
                if flush:
                    self._write(flush)
                elif self._stopping.is_set():
                    break
        finally:
            if self._conn is not None:
                self._conn.close()

    def _collect(self) -> list[Received]:
        """Up to FLUSH_MESSAGES messages (half the broker's send window if it sends fewer,
        ``ingest.window``), waiting at most FLUSH_INTERVAL_S after the first."""
        try:
            flush = [self._inbox.get(timeout=0.05)]
        except queue.Empty:
            return []
        # The interval counts from the first message's arrival, not from when this thread got
        # to it: a message that waited out a slow commit does not wait a second interval.
        waited_s = (datetime.now(UTC) - flush[0].message.received_at).total_seconds()
        deadline = time.monotonic() + max(0.0, self._flush_interval_s - waited_s)
        size = self._window.flush_size(self._flush_messages)
        timed_out = False
        while len(flush) < size:
            # Once stopping, take what is queued without waiting for more.
            wait = 0.0 if self._stopping.is_set() else deadline - time.monotonic()
            try:
                item = self._inbox.get(timeout=wait) if wait > 0 else self._inbox.get_nowait()
                flush.append(item)
            except queue.Empty:
                timed_out = not self._stopping.is_set()
                break
        self._window.observe(
            held=len(flush),
            queued=self._inbox.qsize(),
            timed_out=timed_out,
            silent_s=(datetime.now(UTC) - flush[-1].message.received_at).total_seconds(),
        )
        return flush

    def _write(self, flush: list[Received]) -> None:
        """Commit the flush (retrying database errors), then acknowledge every message in it."""
        delay = RETRY_MIN_S
        started = time.perf_counter()
        while True:
            try:
                outcomes = process_messages(self._connection(), messages=[r.message for r in flush])
                break
            except psycopg.Error as exc:
                metrics.DATABASE_UP.set(0)
                if self._abandon.is_set():
                    return  # not acknowledged: the broker redelivers
                log.warning(
                    "database error on a flush of %d messages, retrying in %.1f s: %s",
                    len(flush),
                    delay,
                    exc,
                )
                self._stats.add(retries=1)
                metrics.RETRIES.inc()
                if self._conn is not None and self._conn.broken:
                    self._conn.close()
                self._abandon.wait(delay)
                delay = min(delay * 2, RETRY_MAX_S)
        committed_at = time.time()
        metrics.DATABASE_UP.set(1)
        for received in flush:
            self._ack(received.mid, received.qos)
        metrics.QUEUE_DEPTH.dec(len(flush))
        self._record(flush, outcomes, committed_at, time.perf_counter() - started)
        if self._on_commit is not None:
            self._on_commit(outcomes, committed_at)

    def _record(
        self, flush: list[Received], outcomes: list[Outcome], committed_at: float, took_s: float
    ) -> None:
        stored = [o for o in outcomes if o.status == "stored" and o.kind == "telemetry"]
        counts = {
            "commits": 1,
            "batches": len(stored),
            "samples": sum(o.samples for o in stored),
            "duplicates": sum(o.status == "duplicate" for o in outcomes),
            "dead_letters": sum(o.status == "dead_letter" for o in outcomes),
        }
        self._stats.add(**counts)
        metrics.BATCHES.inc(counts["batches"])
        metrics.SAMPLES.inc(counts["samples"])
        metrics.DUPLICATES.inc(counts["duplicates"])
        metrics.FLUSH_MESSAGES.observe(len(flush))
        metrics.FLUSH_SECONDS.observe(took_s)
        for received, outcome in zip(flush, outcomes, strict=True):
            metrics.COMMIT_LAG.observe(committed_at - received.message.received_at.timestamp())
            if outcome.status == "dead_letter":
                metrics.DEAD_LETTERS.labels(metrics.reason_class(outcome.reason or "")).inc()
            elif outcome.status == "stored" and outcome.last_time_ms is not None:
                metrics.SAMPLE_AGE.observe(max(0.0, committed_at - outcome.last_time_ms / 1000))
        log.debug("committed %d messages (%d stored)", len(flush), len(stored))
        if time.monotonic() >= self._report_at:
            self._report_at = time.monotonic() + REPORT_INTERVAL_S
            log.info("%s: %s", self._thread.name, self._stats.snapshot())
