# SPDX-License-Identifier: MIT
"""The signal catalogue: every measured quantity, its OBD-II PID, unit, resolution and range.

Names carry their unit (``coolant_temp_c``); ``vss`` is the COVESA Vehicle Signal
Specification path where one exists. ``resolution`` is the value of one count on the wire,
which is the native resolution of the OBD-II PID, so the binary codec loses nothing that the
car reported. ``min``/``max`` are the physical range the PID can express; ingest rejects
values outside it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Signal:
    """One measured quantity."""

    id: int  # stable wire id; equal to the service-01 PID where there is one
    name: str
    unit: str
    resolution: float
    min: float
    max: float
    pid: int | None
    vss: str | None

    def to_counts(self, value: float) -> int:
        """Value → integer counts at the signal's resolution."""
        return round((value - self.min) / self.resolution)

    def from_counts(self, counts: int) -> float:
        """Integer counts → value, rounded to the resolution's decimals."""
        return round(self.min + counts * self.resolution, 6)


_PT = "Vehicle.Powertrain"
SIGNALS: tuple[Signal, ...] = (
    Signal(
        0x04,
        "engine_load_pct",
        "%",
        100 / 255,
        0.0,
        100.0,
        0x04,
        f"{_PT}.CombustionEngine.EngineLoad",
    ),
    Signal(0x05, "coolant_temp_c", "°C", 1.0, -40.0, 215.0, 0x05, f"{_PT}.CombustionEngine.ECT"),
    Signal(0x0C, "engine_rpm", "rpm", 0.25, 0.0, 16383.75, 0x0C, f"{_PT}.CombustionEngine.Speed"),
    Signal(0x0D, "speed_kmh", "km/h", 1.0, 0.0, 255.0, 0x0D, "Vehicle.Speed"),
    Signal(0x11, "throttle_pct", "%", 100 / 255, 0.0, 100.0, 0x11, "Vehicle.OBD.ThrottlePosition"),
    Signal(
        0x2F, "fuel_level_pct", "%", 100 / 255, 0.0, 100.0, 0x2F, f"{_PT}.FuelSystem.RelativeLevel"
    ),
    Signal(
        0x42,
        "module_voltage_v",
        "V",
        0.001,
        0.0,
        65.535,
        0x42,
        "Vehicle.LowVoltageBattery.CurrentVoltage",
    ),
    Signal(
        0x46, "ambient_temp_c", "°C", 1.0, -40.0, 215.0, 0x46, "Vehicle.Exterior.AirTemperature"
    ),
    Signal(0x5C, "oil_temp_c", "°C", 1.0, -40.0, 210.0, 0x5C, f"{_PT}.CombustionEngine.EOT"),
    Signal(0xA6, "odometer_km", "km", 0.1, 0.0, 429496729.5, 0xA6, "Vehicle.TraveledDistance"),
)

_BY_ID = {s.id: s for s in SIGNALS}
_BY_NAME = {s.name: s for s in SIGNALS}


def by_id(signal_id: int) -> Signal | None:
    """The signal with this wire id, or None."""
    return _BY_ID.get(signal_id)


def by_name(name: str) -> Signal | None:
    """The signal with this name, or None."""
    return _BY_NAME.get(name)
