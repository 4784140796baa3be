# SPDX-License-Identifier: MIT
"""The signal catalogue: every measured quantity, its OBD-II PID and how the PID is encoded.

This is the one table of SAE J1979 facts: name, unit, scaling, range, PID and data length,
with the PID's ``decode``/``encode`` derived from them. The edge agent splits combined
replies with it (``edge_agent.pids``), the simulator answers with it (``firmware_sim.obd_pids``)
and the codecs quantise with it (``telemetry.codec``).

Names carry their unit (``coolant_temp_c``); ``vss`` is the COVESA Vehicle Signal
Specification path where one exists. ``scale`` is the value of one count on the wire, exact as
J1979 states it (100/255 % per count), which is the native resolution of the OBD-II PID, so the
binary codec loses nothing that the car reported; ``resolution`` is the same as a float.
``min``/``max`` are the physical range the PID can express; ingest rejects values outside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction


@dataclass(frozen=True, slots=True)
class Signal:
    """One measured quantity, and its service-01 PID where it has one."""

    id: int  # stable wire id; equal to the service-01 PID where there is one
    name: str
    unit: str
    scale: Fraction  # value of one count: J1979's "value = min + counts × scale"
    min: float
    max: float
    pid: int | None
    length: int | None  # data bytes of the PID in a service-01 reply
    vss: str | None
    # float(scale), kept because the codecs do arithmetic with it once per sample.
    resolution: float = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "resolution", float(self.scale))

    def to_counts(self, value: float) -> int:
        """Value → integer counts at the signal's resolution."""
        return round((value - self.min) / self.resolution)

    def from_counts(self, counts: int) -> float:
        """Integer counts → value, rounded to the resolution's decimals."""
        return round(self.min + counts * self.resolution, 6)

    def decode(self, data: bytes) -> float:
        """The PID's data bytes (after 41/PID) → value, as J1979's formula gives it."""
        if self.length is None:
            raise ValueError(f"{self.name} has no OBD-II PID")
        counts = int.from_bytes(data[: self.length], "big")
        # counts × numerator / denominator in integers first: exactly J1979's A*100/255.
        return self.min + counts * self.scale.numerator / self.scale.denominator

    def encode(self, value: float) -> bytes:
        """Value → the PID's data bytes, clamped to what those bytes can carry."""
        if self.length is None:
            raise ValueError(f"{self.name} has no OBD-II PID")
        counts = round((value - self.min) * self.scale.denominator / self.scale.numerator)
        return max(0, min(256**self.length - 1, counts)).to_bytes(self.length, "big")


_PT = "Vehicle.Powertrain"
_ECT = f"{_PT}.CombustionEngine"
_PCT = Fraction(100, 255)
_ONE = Fraction(1)
# fmt: off
SIGNALS: tuple[Signal, ...] = (
    Signal(0x04, "engine_load_pct", "%", _PCT, 0.0, 100.0, 0x04, 1, f"{_ECT}.EngineLoad"),
    Signal(0x05, "coolant_temp_c", "°C", _ONE, -40.0, 215.0, 0x05, 1, f"{_ECT}.ECT"),
    Signal(0x0C, "engine_rpm", "rpm", Fraction(1, 4), 0.0, 16383.75, 0x0C, 2, f"{_ECT}.Speed"),
    Signal(0x0D, "speed_kmh", "km/h", _ONE, 0.0, 255.0, 0x0D, 1, "Vehicle.Speed"),
    Signal(0x11, "throttle_pct", "%", _PCT, 0.0, 100.0, 0x11, 1, "Vehicle.OBD.ThrottlePosition"),
    Signal(0x2F, "fuel_level_pct", "%", _PCT, 0.0, 100.0, 0x2F, 1,
           f"{_PT}.FuelSystem.RelativeLevel"),
    Signal(0x42, "module_voltage_v", "V", Fraction(1, 1000), 0.0, 65.535, 0x42, 2,
           "Vehicle.LowVoltageBattery.CurrentVoltage"),
    Signal(0x46, "ambient_temp_c", "°C", _ONE, -40.0, 215.0, 0x46, 1,
           "Vehicle.Exterior.AirTemperature"),
    Signal(0x5C, "oil_temp_c", "°C", _ONE, -40.0, 210.0, 0x5C, 1, f"{_ECT}.EOT"),
    # 4 bytes, 0.1 km per count (J1979 2014+, PID A6).
    Signal(0xA6, "odometer_km", "km", Fraction(1, 10), 0.0, 429496729.5, 0xA6, 4,
           "Vehicle.TraveledDistance"),
)
# fmt: on

_BY_ID = {s.id: s for s in SIGNALS}
_BY_NAME = {s.name: s for s in SIGNALS}
_BY_PID = {s.pid: s for s in SIGNALS if s.pid is not None}


def by_id(signal_id: int) -> Signal | None:
    """The signal with this wire id, or None."""
    return _BY_ID.get(signal_id)


def by_name(name: str) -> Signal | None:
    """The signal with this name, or None."""
    return _BY_NAME.get(name)


def by_pid(pid: int) -> Signal | None:
    """The signal a service-01 PID carries, or None."""
    return _BY_PID.get(pid)
