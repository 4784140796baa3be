# SPDX-License-Identifier: MIT
"""Trouble codes as an engine ECU keeps them, sensor dropouts, and a fault schedule.

``DtcMemory`` follows the OBD two-trip logic: a fault seen in one drive cycle is *pending*
(service 07); seen again in a later cycle it is *confirmed* — *stored* (service 03, MIL on),
a freeze frame is taken if none is held, and emission-related (P0) codes also become
*permanent* (service 0A), which service 04 cannot clear: only three clean drive cycles do.

``FaultSchedule`` acts on a car through what it needs of it (its latent faults, code memory,
hidden truth and clock), not through ``Vehicle``: the car composes faults, never the reverse.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from firmware_sim.truth import GroundTruth
from firmware_sim.vehicle_data import Trace, VehicleState

DtcStatus = Literal["pending", "stored", "permanent"]
CONFIRM_CYCLES = 2
PERMANENT_CLEAN_CYCLES = 3
MISFIRE_CYL1 = "P0301"
SYSTEM_VOLTAGE_LOW = "P0562"


@dataclass
class DtcMemory:
    """Pending, stored and permanent codes, the freeze frame, and dropped-out sensors."""

    stored: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    permanent: list[str] = field(default_factory=list)
    freeze_frame: VehicleState | None = None
    freeze_frame_dtc: str | None = None
    dropouts: dict[int, float] = field(default_factory=dict)  # PID -> until (vehicle clock)
    _seen: set[str] = field(default_factory=set)
    _cycles_seen: dict[str, int] = field(default_factory=dict)
    _clean_cycles: dict[str, int] = field(default_factory=dict)

    def set_stored(self, codes: Iterable[str], state: VehicleState) -> None:
        """Replace the stored codes (the dongle CLI's ``--dtc``)."""
        self.stored[:] = [c.upper() for c in codes]
        self.capture(state)

    def capture(self, state: VehicleState) -> None:
        """Take the freeze frame if a code is stored and none is held yet."""
        if self.stored and self.freeze_frame is None:
            self.freeze_frame = copy.copy(state)
            self.freeze_frame_dtc = self.stored[0]

    def inject(self, code: str, status: DtcStatus, state: VehicleState) -> None:
        """Set a code directly: pending only, stored, or stored and permanent."""
        code = code.upper()
        if status == "pending":
            _add(self.pending, code)
            return
        _add(self.stored, code)
        if status == "permanent":
            _add(self.permanent, code)
        self.capture(state)

    def occur(self, code: str, state: VehicleState) -> None:
        """The ECU's monitor detects ``code`` now: pending at first, confirmed on a later cycle."""
        code = code.upper()
        self._seen.add(code)
        self._clean_cycles.pop(code, None)
        if self._cycles_seen.get(code, 0) + 1 >= CONFIRM_CYCLES:
            _drop(self.pending, code)
            _add(self.stored, code)
            if code.startswith("P0"):
                _add(self.permanent, code)
            self.capture(state)
        else:
            _add(self.pending, code)

    def end_drive_cycle(self) -> None:
        """Ignition off: count cycles with each fault, forget pending codes that passed."""
        for code in self._seen:
            self._cycles_seen[code] = self._cycles_seen.get(code, 0) + 1
        for code in [c for c in self.pending if c not in self._seen]:
            _drop(self.pending, code)
            self._cycles_seen.pop(code, None)
        for code in [c for c in self.permanent if c not in self._seen and c not in self.stored]:
            self._clean_cycles[code] = self._clean_cycles.get(code, 0) + 1
            if self._clean_cycles[code] >= PERMANENT_CLEAN_CYCLES:
                _drop(self.permanent, code)
                del self._clean_cycles[code]
        self._seen.clear()

    def clear(self) -> None:
        """Service 04: stored and pending codes and the freeze frame go; permanent ones stay."""
        self.stored.clear()
        self.pending.clear()
        self.freeze_frame = None
        self.freeze_frame_dtc = None
        self._cycles_seen.clear()

    def drop(self, pids: Iterable[int], until_s: float) -> None:
        """Make these PIDs answer NO DATA until the vehicle clock reaches ``until_s``."""
        for pid in pids:
            self.dropouts[int(pid)] = max(self.dropouts.get(int(pid), 0.0), until_s)

    def dropped(self, now_s: float) -> frozenset[int]:
        """PIDs dropping out at ``now_s``."""
        return frozenset(pid for pid, until in self.dropouts.items() if until > now_s)


def _add(codes: list[str], code: str) -> None:
    if code not in codes:
        codes.append(code)


def _drop(codes: list[str], code: str) -> None:
    if code in codes:
        codes.remove(code)


def state_at(trace: Trace, i: int) -> VehicleState:
    """The reportable state at step ``i`` of a trace (for a freeze frame)."""
    values = {name: float(arr[i]) for name, arr in trace.signals.items()}
    return VehicleState(**values, ignition_on=True, engine_on=values.get("engine_rpm", 0.0) > 0)


@dataclass(frozen=True)
class FaultSchedule:
    """Faults the fleet applies after every trip, according to each car's latent faults."""

    # A worn coil on cylinder 1 misfires under sustained high load.
    misfire_high_load_s: float = 20.0
    misfire_probability: float = 0.6
    # Cranking below this voltage sets "system voltage low".
    low_voltage_v: float = 9.6
    # Each start wears a weak battery a little further (sulphation; cold starts most).
    weak_battery_loss_pct: float = 0.4
    dropout_probability: float = 0.02
    dropout_s: float = 600.0
    dropout_pids: tuple[int, ...] = (0x5C, 0x46, 0x2F)

    def after_trip(
        self,
        trace: Trace,
        rng: np.random.Generator,
        *,
        latent: Collection[str],
        memory: DtcMemory,
        truth: GroundTruth,
        clock_s: float,
    ) -> None:
        """Let the car's ``latent`` faults act on the trip just driven: codes go to its
        ``memory``, a weak battery wears in its ``truth``, dropouts run on its ``clock_s``."""
        load = trace.signals.get("engine_load_pct")
        if "misfire" in latent and load is not None and load.size:
            high_s = float((load > 75.0).sum()) * _step_s(trace)
            if high_s >= self.misfire_high_load_s and rng.random() < self.misfire_probability:
                memory.occur(MISFIRE_CYL1, state_at(trace, int(np.argmax(load))))
        if "weak_battery" in latent:
            truth.battery_health_pct = max(truth.battery_health_pct - self.weak_battery_loss_pct, 0)
        volts = trace.signals.get("module_voltage_v")
        if volts is not None and volts.size and volts[0] < self.low_voltage_v:
            memory.occur(SYSTEM_VOLTAGE_LOW, state_at(trace, 0))
        if rng.random() < self.dropout_probability:
            pid = self.dropout_pids[int(rng.integers(len(self.dropout_pids)))]
            memory.drop([pid], clock_s + self.dropout_s)


def _step_s(trace: Trace) -> float:
    return float(trace.t_s[1] - trace.t_s[0]) if trace.t_s.size > 1 else 1.0
