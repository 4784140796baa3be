# SPDX-License-Identifier: MIT
"""A vehicle reader serving one fixed ``EcuSnapshot``: the dongle without the physics.

For protocol tests and benchmarks that need every snapshot field under control and
values that do not move between two requests.
"""

from __future__ import annotations

import dataclasses
import threading

from firmware_sim.vehicle import EcuSnapshot, VehicleState


def running_state(**overrides: float | bool) -> VehicleState:
    """A warm car driving at a steady 80 km/h (override any field)."""
    state = VehicleState(
        speed_kmh=80.0,
        engine_rpm=1726.0,
        engine_load_pct=40.0,
        throttle_pct=22.0,
        coolant_temp_c=88.0,
        oil_temp_c=95.0,
        ambient_temp_c=12.0,
        fuel_level_pct=50.0,
        odometer_km=1234.5,
        module_voltage_v=14.2,
        ignition_on=True,
        engine_on=True,
    )
    return dataclasses.replace(state, **overrides)  # type: ignore[arg-type]


class StaticReader:
    """Answers ``snapshot()`` with ``snap``; ``clear_dtcs`` acts like service 04 on an ECU."""

    def __init__(self, snap: EcuSnapshot) -> None:
        self.snap = snap
        self._lock = threading.Lock()

    def snapshot(self) -> EcuSnapshot:
        """The current snapshot."""
        with self._lock:
            return self.snap

    def clear_dtcs(self) -> None:
        """Forget stored and pending codes and the freeze frame; permanent codes stay."""
        with self._lock:
            self.snap = dataclasses.replace(
                self.snap, dtcs=(), pending_dtcs=(), freeze_frame=None, freeze_frame_dtc=None
            )

    def update(self, **changes: object) -> None:
        """Change snapshot fields (ignition, bus, codes...) between requests."""
        with self._lock:
            self.snap = dataclasses.replace(self.snap, **changes)  # type: ignore[arg-type]
