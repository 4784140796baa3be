# SPDX-License-Identifier: MIT
"""Accelerated-time feed: simulator trips cut into wire batches without a serial link.

This is the edge agent's batching and publishing driven straight from the simulator's traces,
so months of a fleet's driving go through MQTT and ingest in minutes. The real serial path
(ELM327 protocol → python-OBD) runs alongside in real time for one vehicle in the demo.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from edge_agent.agent import Schedule
from telemetry import Batch, Series

# The same split into fast and slow signals as the real agent's schedule.
FAST = Schedule().fast
SLOW = Schedule().slow


@dataclass(frozen=True)
class Sampling:
    """How often the simulated agent samples, and how long a batch window is."""

    # Speed every second keeps the braking-energy estimate honest (decelerations last a few
    # seconds); the other fast signals every 2 s and slow ones every 30 s match what a real
    # ELM327 clone at 38400 baud sustains across ten signals.
    speed_period_s: int = 1
    fast_period_s: int = 2
    slow_period_s: int = 30
    window_s: int = 300


def _series(
    name: str, t_s: np.ndarray, values: np.ndarray, idx: np.ndarray, base_s: float
) -> Series:
    offsets = np.round((t_s[idx] - base_s) * 1000).astype(np.int64)
    return Series(
        name, tuple(offsets.tolist()), tuple(np.asarray(values)[idx].astype(float).tolist())
    )


def trace_batches(trace, *, device_id: str, sampling: Sampling) -> Iterator[Batch]:
    """Batches (seq 0; the outbox numbers them) covering one simulator trace."""
    t_s = np.asarray(trace.t_s, dtype=float)
    if t_s.size == 0:
        return
    start_ms = int(trace.start.timestamp() * 1000)
    step = {name: sampling.fast_period_s for name in FAST}
    step["speed_kmh"] = sampling.speed_period_s
    step.update({name: sampling.slow_period_s for name in SLOW})
    window_starts = np.arange(t_s[0], t_s[-1] + 1e-9, sampling.window_s)
    for w0 in window_starts:
        in_window = (t_s >= w0) & (t_s < w0 + sampling.window_s)
        positions = np.flatnonzero(in_window)
        if positions.size == 0:
            continue
        series = []
        for name, period in step.items():
            values = trace.signals.get(name)
            if values is None:
                continue
            idx = positions[np.round(t_s[positions]).astype(np.int64) % period == 0]
            if idx.size:
                series.append(_series(name, t_s, values, idx, float(w0)))
        if series:
            yield Batch(device_id, 0, trace.vin, start_ms + round(float(w0) * 1000), tuple(series))
