# SPDX-License-Identifier: MIT
"""Accelerated-time feed: simulator trips cut into wire batches without a serial link.

This is the edge agent's batching and publishing driven straight from the simulator's traces,
so months of a fleet's driving go through MQTT and ingest in minutes. The real serial path
(ELM327 protocol → python-OBD) runs alongside in real time for one vehicle in the demo.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from edge_agent.agent import Schedule
from edge_agent.outbox import Outbox
from edge_agent.publisher import Publisher
from firmware_sim.daily_driving import FleetMember
from firmware_sim.fleet_arrays import FleetSim
from telemetry import Batch, Series

log = logging.getLogger(__name__)

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


def trace_batches(trace: Any, *, device_id: str, sampling: Sampling) -> Iterator[Batch]:
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


@dataclass(frozen=True)
class FeedStats:
    """What driving a fleet through the agent's publishing produced."""

    trips: int
    steps: int
    samples_generated: int
    batches_published: int
    samples_published: int
    drained: bool
    elapsed_s: float


def drive_fleet(
    fleet: list[FleetMember],
    devices: list[str],
    first_day: dt.date,
    days: int,
    *,
    mqtt_url: str,
    seed: int,
    sampling: Sampling,
    console: Console,
    stack: ExitStack,
    drain_timeout_s: float = 120.0,
) -> FeedStats:
    """Simulate ``days`` of the fleet (vectorised) and publish every trip through the agent."""
    t0 = time.monotonic()
    publishers = []
    for device_id in devices:
        # In memory: the accelerated feed has no power cuts to survive; a real agent
        # buffers on disk. Each run counts from 0 again under the new buffer's own epoch, so
        # feeding the same devices twice stores both runs.
        pub = Publisher(mqtt_url=mqtt_url, device_id=device_id, outbox=Outbox(":memory:"))
        pub.start()
        stack.callback(pub.stop)
        publishers.append(pub)
    sim = FleetSim(fleet, seed=seed)
    trips = published = samples = 0
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[batches]} batches"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("driving the fleet (simulated days)", total=days, batches=0)
        for d in range(days):
            for i, trace in sim.run_day(first_day + dt.timedelta(days=d)):
                pub = publishers[i]
                trips += 1
                for batch in trace_batches(trace, device_id=pub.device_id, sampling=sampling):
                    pub.send(batch)
                    published += 1
                    samples += batch.sample_count
            progress.update(task, advance=1, batches=published)
    drained = True
    deadline = time.monotonic() + drain_timeout_s  # one wait for the whole fleet
    for pub in publishers:
        if not pub.wait_drained(max(0.0, deadline - time.monotonic())):
            drained = False
            log.warning("%s still has %d unacknowledged batches", pub.device_id, len(pub.outbox))
    if not drained and any(pub.unrouted for pub in publishers):
        log.warning(
            "the broker routed batches to no subscriber: is ingest (`wrenchlight ingest`) "
            "consuming from this broker? The agents keep such batches until someone does."
        )
    return FeedStats(
        trips=trips,
        steps=sim.steps,
        samples_generated=sim.samples,
        batches_published=published,
        samples_published=samples,
        drained=drained,
        elapsed_s=round(time.monotonic() - t0, 2),
    )
