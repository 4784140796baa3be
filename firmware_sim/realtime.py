# SPDX-License-Identifier: MIT
"""Drive a vehicle on the wall clock along a looping cycle, for a live dongle."""

from __future__ import annotations

import threading
import time

import numpy as np

from firmware_sim.vehicle import EcuSnapshot, Vehicle

# Physics ticks per simulated second; 10 Hz keeps rpm and speed smooth for a poller.
TICK_S = 0.1


class RealtimeVehicle:
    """A thread stepping ``vehicle`` through ``speeds_kmh`` (1 Hz, looping) in real time."""

    def __init__(self, vehicle: Vehicle, speeds_kmh: np.ndarray, speedup: float = 1.0) -> None:
        if speedup <= 0:
            raise ValueError("speedup must be positive")
        self.vehicle = vehicle
        self.speeds_kmh = np.asarray(speeds_kmh, dtype=float)
        self.speedup = speedup
        self.lock = threading.Lock()
        self.sim_time_s = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def target_at(self, sim_time_s: float) -> float:
        """Cycle speed at a simulated time, linearly interpolated and looping."""
        n = self.speeds_kmh.size
        if n == 0:
            return 0.0
        t = sim_time_s % n
        i = int(t)
        frac = t - i
        return float((1 - frac) * self.speeds_kmh[i] + frac * self.speeds_kmh[(i + 1) % n])

    def start(self) -> None:
        """Switch the ignition on and start following the cycle."""
        with self.lock:
            self.vehicle.ignition(True)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="realtime-vehicle", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(TICK_S / self.speedup):
            now = time.monotonic()
            # Catch up in TICK_S steps if the thread was starved, so time stays true.
            sim_dt = min((now - last) * self.speedup, 60.0)
            last = now
            with self.lock:
                while sim_dt > 1e-9:
                    h = min(TICK_S, sim_dt)
                    self.sim_time_s += h
                    self.vehicle.step(h, self.target_at(self.sim_time_s))
                    sim_dt -= h

    def stop(self) -> None:
        """Stop the clock and park the car."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        with self.lock:
            self.vehicle.ignition(False)

    # The dongle reads through these, under the same lock as the physics.
    def snapshot(self) -> EcuSnapshot:
        """Consistent copy of the vehicle's reportable state."""
        with self.lock:
            return self.vehicle.snapshot()

    def clear_dtcs(self) -> None:
        """Clear the vehicle's stored trouble codes."""
        with self.lock:
            self.vehicle.clear_dtcs()
