# SPDX-License-Identifier: MIT
"""Counters of one ingest worker, safe to read from any thread."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields


@dataclass
class Stats:
    """What a worker has done since it started."""

    messages: int = 0  # received from the broker
    batches: int = 0  # telemetry batches stored and committed
    samples: int = 0  # readings written and committed
    duplicates: int = 0  # batches dropped because (device, epoch, seq) was already stored
    dead_letters: int = 0  # messages rejected into dead_letters
    commits: int = 0  # transactions committed (one per flush)
    retries: int = 0  # flushes retried after a database error
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        """Add to the named counters."""
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)

    def snapshot(self) -> dict[str, int]:
        """A consistent copy of every counter."""
        with self._lock:
            return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "_lock"}
