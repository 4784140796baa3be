# SPDX-License-Identifier: MIT
"""The on-disk buffer: a batch is stored before it is published and deleted after the broker acks.

SQLite in WAL mode with ``synchronous=FULL`` survives SIGKILL and power loss with every
committed batch intact. The sequence counter lives in the same database and is advanced in the
same transaction that stores the batch, so a restart never reuses or skips a number.

Ingest de-duplicates on (device, epoch, seq). Each opening of the buffer draws a new random
epoch, stored in ``meta`` for inspection; batches already stored keep the epoch they were
encoded with, so a resend after a restart is still recognised as a duplicate. Drawing it per
opening rather than once per file is what makes a restored backup safe: the file comes back
with an old counter (numbers ingest already holds) but is opened under a new epoch, so its new
batches can never match stored ones. A deleted buffer or a re-flashed device counts from 0 under
a new epoch for the same reason.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Literal

WhenFull = Literal["drop_oldest", "drop_newest"]
# Epochs are 1..2^63-1: they fit PostgreSQL's bigint, and 0 is a batch from before epochs.
_EPOCHS = 2**63 - 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, payload BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('next_seq', 0), ('dropped', 0);
"""
# The batch to evict first, by policy: two fixed statements rather than SQL built per call.
_EVICT_FIRST = {
    "drop_oldest": "SELECT seq, length(payload) AS size FROM outbox ORDER BY seq ASC LIMIT 1",
    "drop_newest": "SELECT seq, length(payload) AS size FROM outbox ORDER BY seq DESC LIMIT 1",
}


class Outbox:
    """Durable FIFO of encoded batches keyed by sequence number, bounded in bytes."""

    def __init__(
        self,
        path: str | Path = ":memory:",
        *,
        max_bytes: int = 256 * 1024 * 1024,
        when_full: WhenFull = "drop_oldest",
    ) -> None:
        # 256 MiB holds weeks of a car's data at typical rates on a small SD card.
        if when_full not in ("drop_oldest", "drop_newest"):
            raise ValueError(f"when_full must be drop_oldest or drop_newest, not {when_full!r}")
        self.max_bytes = max_bytes
        self.when_full = when_full
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        # Rows are read by column name, never by position.
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self.epoch = secrets.randbelow(_EPOCHS) + 1
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('epoch', ?)", (self.epoch,))
        self._bytes = self._int("SELECT COALESCE(SUM(length(payload)), 0) AS value FROM outbox", ())

    def enqueue(self, build: Callable[[int], bytes]) -> tuple[int, bytes]:
        """Allocate the next sequence number, build the payload for it (under ``self.epoch``),
        and store both."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                seq = self._int("SELECT value FROM meta WHERE key='next_seq'")
                payload = build(seq)
                self._db.execute("INSERT INTO outbox VALUES (?, ?)", (seq, payload))
                self._db.execute("UPDATE meta SET value = ? WHERE key='next_seq'", (seq + 1,))
                self._bytes += len(payload)
                self._evict()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return seq, payload

    def _evict(self) -> None:
        # drop_oldest keeps the freshest picture of the car; drop_newest keeps an unbroken
        # history from the start of an outage. Either way every loss is counted and reported.
        first = _EVICT_FIRST[self.when_full]
        while self._bytes > self.max_bytes:
            row = self._db.execute(first).fetchone()
            if row is None:
                break
            self._db.execute("DELETE FROM outbox WHERE seq = ?", (row["seq"],))
            self._db.execute("UPDATE meta SET value = value + 1 WHERE key='dropped'")
            self._bytes -= int(row["size"])

    def ack(self, seq: int) -> None:
        """The broker has the batch: forget it."""
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM outbox WHERE seq = ? RETURNING length(payload) AS size", (seq,)
            )
            row = cur.fetchone()
            if row is not None:
                self._bytes -= int(row["size"])

    def pending(self, limit: int = 1000) -> list[tuple[int, bytes]]:
        """The oldest unacknowledged batches, in sequence order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, payload FROM outbox ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [(row["seq"], row["payload"]) for row in rows]

    def __len__(self) -> int:
        with self._lock:
            return self._int("SELECT COUNT(*) AS value FROM outbox")

    def get_meta(self, key: str) -> int | None:
        """A named integer kept with the buffer (e.g. the integrated odometer), or None."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else int(row["value"])

    def set_meta(self, key: str, value: int) -> None:
        """Store a named integer durably."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @property
    def dropped(self) -> int:
        """Batches evicted because the buffer was full."""
        with self._lock:
            return self._int("SELECT value FROM meta WHERE key='dropped'")

    def _int(self, query: str, params: tuple[object, ...] = ()) -> int:
        """The ``value`` column of the one row ``query`` returns, as an int."""
        row = self._db.execute(query, params).fetchone()
        return int(row["value"])

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
