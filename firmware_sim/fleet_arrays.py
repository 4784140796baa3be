# SPDX-License-Identifier: MIT
"""A fleet simulated with numpy across vehicles: one physics call per trip rank per day.

``simulate_day`` drives one car trip after trip. Here the day's first trip of every car is
one batch (``powertrain.simulate`` over all of them laid end to end), then every car's second
trip, and so on: the per-call overhead is paid once per rank instead of once per trip, and
each batch is long enough for numpy to run at memory speed. Parking, ignition, refuelling
and faults stay per vehicle, in the same ``daily_driving.begin_trip``/``end_trip`` as the
slow path, so both paths model the same cars.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import numpy as np

from firmware_sim import physics, powertrain
from firmware_sim.daily_driving import DEFAULT_FAULTS, FleetMember, begin_trip, day_trips, end_trip
from firmware_sim.faults import FaultSchedule
from firmware_sim.vehicle_data import SIGNALS, Trace

# Steps per physics call: bounds memory (~50 arrays of this many floats) while keeping
# numpy's per-call overhead negligible (measured: 2^19 runs ~1.6x faster than 2^14).
BATCH_STEPS = 1 << 19


class FleetSim:
    """Accelerated-time simulation of a whole fleet, vectorised across its vehicles."""

    def __init__(
        self,
        fleet: list[FleetMember],
        seed: int = 0,
        faults: FaultSchedule | None = DEFAULT_FAULTS,
    ) -> None:
        self.fleet = fleet
        self.faults = faults
        # Two streams: trip plans (as the per-vehicle path draws them) and sensor noise.
        self.plan_rng = np.random.default_rng(seed)
        self.noise_rng = np.random.default_rng([seed, 1])
        self.params = powertrain.Params.from_specs([m.vehicle.spec for m in fleet])
        self.steps = 0
        self.samples = 0

    def run_day(self, day: dt.date) -> list[tuple[int, Trace]]:
        """Every trip of ``day``: (index in the fleet, trace), grouped by trip rank."""
        plans = [day_trips(m.profile, day, self.plan_rng) for m in self.fleet]
        out: list[tuple[int, Trace]] = []
        for rank in range(max((len(p) for p in plans), default=0)):
            idx = [i for i, p in enumerate(plans) if len(p) > rank]
            # Batches of ~BATCH_STEPS bound the memory of one physics call.
            batch: list[int] = []
            steps = 0
            for i in idx:
                batch.append(i)
                steps += len(plans[i][rank][1])
                if steps >= BATCH_STEPS or i == idx[-1]:
                    out.extend(self._run_batch(batch, [plans[k][rank] for k in batch]))
                    batch, steps = [], 0
        return out

    def run(self, first_day: dt.date, days: int) -> Iterator[tuple[int, Trace]]:
        """Every trip of ``days`` days from ``first_day``."""
        for d in range(days):
            yield from self.run_day(first_day + dt.timedelta(days=d))

    def _run_batch(
        self, idx: list[int], trips: list[tuple[dt.datetime, np.ndarray]]
    ) -> list[tuple[int, Trace]]:
        vehicles = [self.fleet[i].vehicle for i in idx]
        for vehicle, (start, _) in zip(vehicles, trips, strict=True):
            begin_trip(vehicle, start)
        lens = np.fromiter((len(s) for _, s in trips), dtype=np.int64, count=len(trips))
        seg = physics.Segments(lens)
        speeds = np.clip(np.concatenate([s for _, s in trips]), 0.0, None)
        start_state = powertrain.Start.stack([v.start_values() for v in vehicles])
        res = powertrain.simulate(
            speeds, seg, self.params.take(np.asarray(idx)), start_state, 1.0, self.noise_rng
        )
        sums = {k: v.tolist() for k, v in res.sums.items()}
        last = {k: res.signals[k][seg.ends].tolist() for k in SIGNALS}
        bounds = np.append(seg.starts, seg.n).tolist()
        t_all = np.arange(int(lens.max()), dtype=float)
        out = []
        for j, (vehicle, (start, _)) in enumerate(zip(vehicles, trips, strict=True)):
            vehicle.absorb({k: v[j] for k, v in sums.items()})
            vehicle.set_state_from({k: v[j] for k, v in last.items()})
            vehicle.clock_s += float(lens[j])
            a, b = bounds[j], bounds[j + 1]
            signals = {name: res.signals[name][a:b] for name in vehicle.spec.signals}
            trace = Trace(
                vehicle.spec.vin, start, t_all[: b - a], signals, dataclasses.replace(vehicle.truth)
            )
            end_trip(vehicle, trace, self.plan_rng, self.faults)
            self.steps += b - a
            self.samples += (b - a) * len(signals)
            out.append((idx[j], trace))
        return out
