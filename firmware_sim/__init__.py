# SPDX-License-Identifier: MIT
"""Simulated vehicles, drive cycles, fleets and an ELM327-compatible OBD-II dongle."""

from firmware_sim.cycles import available_cycles, load_cycle, real_trips
from firmware_sim.elm327 import Elm327
from firmware_sim.vehicle import Trace, Vehicle, VehicleSpec, VehicleState

__all__ = [
    "Elm327",
    "Trace",
    "Vehicle",
    "VehicleSpec",
    "VehicleState",
    "available_cycles",
    "load_cycle",
    "real_trips",
]
