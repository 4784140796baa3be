# SPDX-License-Identifier: MIT
"""Unmodified python-OBD talking to the simulated dongle over a real pseudo-terminal."""

from collections.abc import Iterator

import obd
import pytest

from firmware_sim.cycles import load_cycle
from firmware_sim.elm327 import Elm327
from firmware_sim.transport import PtyDongle
from firmware_sim.vehicle import Vehicle, VehicleSpec

# python-OBD strips the characters 0, 1, 2 and x from both ends of a VIN; this one survives.
VIN = "WDB2030461A123457"


@pytest.fixture(scope="module")
def car() -> Vehicle:
    v = Vehicle(VehicleSpec(vin=VIN, initial_dtcs=("P0301",)), seed=3)
    v.drive(load_cycle("hwfet")[:400])  # mid-cycle, engine warm-ish, moving
    return v


@pytest.fixture(scope="module")
def conn(car: Vehicle) -> Iterator[obd.OBD]:
    with PtyDongle(Elm327(car)) as port:
        c = obd.OBD(portstr=port.path, baudrate=38400, fast=False, timeout=2)
        yield c
        c.close()


def test_connects_on_can_11_500(conn: obd.OBD) -> None:
    assert conn.status() == obd.OBDStatus.CAR_CONNECTED
    assert conn.protocol_id() == "6"
    assert conn.protocol_name() == "ISO 15765-4 (CAN 11/500)"
    assert obd.commands.OIL_TEMP in conn.supported_commands
    assert obd.commands.MAF not in conn.supported_commands


def test_live_values_match_state(conn: obd.OBD, car: Vehicle) -> None:
    s = car.state
    assert conn.query(obd.commands.SPEED).value.magnitude == round(s.speed_kmh)
    assert conn.query(obd.commands.RPM).value.magnitude == round(s.engine_rpm * 4) / 4
    assert conn.query(obd.commands.COOLANT_TEMP).value.magnitude == round(s.coolant_temp_c)
    assert conn.query(obd.commands.OIL_TEMP).value.magnitude == round(s.oil_temp_c)
    fuel = conn.query(obd.commands.FUEL_LEVEL).value.magnitude
    assert fuel == pytest.approx(s.fuel_level_pct, abs=0.4)
    volts = conn.query(obd.commands.ELM_VOLTAGE).value.magnitude
    assert volts == pytest.approx(s.module_voltage_v, abs=0.05)
    ecu_volts = conn.query(obd.commands.CONTROL_MODULE_VOLTAGE).value.magnitude
    assert ecu_volts == pytest.approx(s.module_voltage_v, abs=0.001)
    assert s.speed_kmh > 10 and s.coolant_temp_c > 40  # the state is not trivially zero


def test_dtcs_and_vin(conn: obd.OBD) -> None:
    codes = conn.query(obd.commands.GET_DTC).value
    assert [c for c, _ in codes] == ["P0301"]
    assert bytes(conn.query(obd.commands.VIN).value) == VIN.encode()


def test_unsupported_pid_is_null(conn: obd.OBD) -> None:
    assert conn.query(obd.commands.MAF, force=True).is_null()


def test_ignition_off_gives_null() -> None:
    v = Vehicle(VehicleSpec(vin=VIN))  # parked: ignition off
    with PtyDongle(Elm327(v)) as port:
        c = obd.OBD(portstr=port.path, baudrate=38400, fast=False, timeout=2)
        try:
            assert c.status() == obd.OBDStatus.OBD_CONNECTED  # adapter up, car asleep
            assert c.query(obd.commands.SPEED).is_null()
            assert c.query(obd.commands.ELM_VOLTAGE).value.magnitude == pytest.approx(12.4)
        finally:
            c.close()
