# SPDX-License-Identifier: MIT
"""Collects samples per signal and cuts them into wire batches with consecutive sequence numbers."""

from __future__ import annotations

from collections import defaultdict

from telemetry import Batch, Series


class Batcher:
    """Accumulates samples for one device; ``cut`` returns a batch when there is one."""

    def __init__(
        self, *, device_id: str, vin: str, max_samples: int = 2_000, max_window_ms: int = 60_000
    ) -> None:
        # 60 s windows keep the latency from road to database around a minute on live links
        # while a batch of ~10 signals stays a few hundred bytes compressed; 2,000 samples
        # caps a batch well under the broker's payload limit even at fast polling rates.
        self.device_id = device_id
        self.vin = vin
        self.max_samples = max_samples
        self.max_window_ms = max_window_ms
        self._samples: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self._count = 0
        self._first_ms: int | None = None

    def add(self, signal: str, time_ms: int, value: float) -> None:
        """Add one sample (unix ms)."""
        if self._first_ms is None or time_ms < self._first_ms:
            self._first_ms = time_ms
        self._samples[signal].append((time_ms, value))
        self._count += 1

    def due(self, now_ms: int) -> bool:
        """True when the pending samples should go out as a batch."""
        if self._count == 0 or self._first_ms is None:
            return False
        return self._count >= self.max_samples or now_ms - self._first_ms >= self.max_window_ms

    def cut(self, seq: int) -> Batch | None:
        """Everything pending as one batch with sequence number ``seq``, or None when empty."""
        if self._count == 0 or self._first_ms is None:
            return None
        base = self._first_ms
        series = []
        for signal, samples in self._samples.items():
            samples.sort()
            series.append(
                Series(signal, tuple(t - base for t, _ in samples), tuple(v for _, v in samples))
            )
        self._samples.clear()
        self._count = 0
        self._first_ms = None
        return Batch(self.device_id, seq, self.vin, base, tuple(series))

    def __len__(self) -> int:
        return self._count
