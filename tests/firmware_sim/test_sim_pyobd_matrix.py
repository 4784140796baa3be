# SPDX-License-Identifier: MIT
"""Unmodified python-OBD over a pty and over TCP, on CAN 11-bit, CAN 29-bit and ISO 9141-2."""

from collections.abc import Iterator

import obd
import pytest

from edge_agent.obd_link import ODOMETER, VIN_RAW
from edge_agent.vin import decode_vin
from firmware_sim import obd_pids
from firmware_sim.elm327 import Elm327
from firmware_sim.static_reader import StaticReader, running_state
from firmware_sim.transport import PtyDongle, TcpDongle
from firmware_sim.vehicle import EcuSnapshot

# Starts and ends with digits python-OBD's own VIN decoder would strip: only VIN_RAW survives.
VIN = "1FTFW1ET5DFC10312"
CODES = ("P0301", "P0420", "C0035", "B1234", "U0100")
STATE = running_state()
PCT_LSB = 100 / 255
# Service 01 PID -> (value the snapshot holds, tolerance of one encoding step / 2).
EXPECTED = {
    0x04: (STATE.engine_load_pct, PCT_LSB / 2),
    0x05: (STATE.coolant_temp_c, 0),
    0x0C: (STATE.engine_rpm, 0),
    0x0D: (STATE.speed_kmh, 0),
    0x11: (STATE.throttle_pct, PCT_LSB / 2),
    0x2F: (STATE.fuel_level_pct, PCT_LSB / 2),
    0x42: (STATE.module_voltage_v, 1e-9),
    0x46: (STATE.ambient_temp_c, 0),
    0x5C: (STATE.oil_temp_c, 0),
}


@pytest.fixture(scope="module", params=["pty-6", "tcp-6", "pty-7", "tcp-7", "pty-3", "tcp-3"])
def link(request: pytest.FixtureRequest) -> Iterator[tuple[obd.OBD, EcuSnapshot]]:
    transport, bus = request.param.split("-")
    snap = EcuSnapshot(VIN, STATE, True, CODES, protocol=bus, has_transmission_ecu=True)
    elm = Elm327(StaticReader(snap), protocol=bus)
    port = PtyDongle(elm) if transport == "pty" else TcpDongle(elm, port=0)
    url = port.path if isinstance(port, PtyDongle) else f"socket://{port.address}"
    # Naming the protocol skips python-OBD's fixed 2 s of auto-search sleeps.
    conn = obd.OBD(url, baudrate=38400, protocol=bus, fast=False, timeout=2)
    try:
        yield conn, snap
    finally:
        conn.close()
        port.close()


def test_connects_on_the_cars_bus(link: tuple[obd.OBD, EcuSnapshot]) -> None:
    conn, snap = link
    assert conn.status() == obd.OBDStatus.CAR_CONNECTED
    assert conn.protocol_id() == snap.protocol


def test_every_supported_pid_decodes_to_the_snapshot(link: tuple[obd.OBD, EcuSnapshot]) -> None:
    conn, snap = link
    claimed = obd_pids.supported_01(snap) | {p for p in obd_pids.SUPPORT_PIDS_01 if p < 0xA0}
    mode1 = {c.pid: c for c in conn.supported_commands if c.mode == 1}
    known = {c.pid for c in obd.commands[1] if c is not None}
    assert set(mode1) == claimed & known - {0x80}  # 0x80 lists only A6, unknown to 0.7.3
    for pid, cmd in sorted(mode1.items()):
        r = conn.query(cmd)
        assert not r.is_null(), cmd.name
        if pid in obd_pids.SUPPORT_PIDS_01:
            bits = obd_pids.support_bitmap(pid, obd_pids.supported_01(snap))
            assert list(r.value) == [bool(b >> (7 - i) & 1) for b in bits for i in range(8)]
        elif pid == 0x01:
            assert r.value.MIL and r.value.DTC_count == len(CODES)
        else:
            want, tol = EXPECTED[pid]
            assert r.value.magnitude == pytest.approx(want, abs=tol), cmd.name
    odo = conn.query(ODOMETER, force=True)
    assert odo.value == pytest.approx(STATE.odometer_km)


def test_vin_through_raw_service_09(link: tuple[obd.OBD, EcuSnapshot]) -> None:
    conn, _ = link
    r = conn.query(VIN_RAW, force=True)
    assert decode_vin(r.value) == VIN


def test_trouble_codes_multi_frame_and_multi_message(link: tuple[obd.OBD, EcuSnapshot]) -> None:
    conn, _ = link
    r = conn.query(obd.commands.GET_DTC)
    assert [code for code, _ in r.value] == list(CODES)
    # Five codes: ISO-TP first + consecutive frames on CAN, two messages on ISO 9141-2.
    assert len(r.messages[0].frames) == 2


def test_auto_search_with_a_second_ecu() -> None:
    snap = EcuSnapshot(VIN, STATE, True, (), protocol="7", has_transmission_ecu=True)
    with PtyDongle(Elm327(StaticReader(snap), protocol="0")) as port:
        conn = obd.OBD(port.path, baudrate=38400, fast=False, timeout=2)
        try:
            assert conn.protocol_id() == "7"
            r = conn.query(obd.commands.SPEED)
            assert r.value.magnitude == STATE.speed_kmh
            assert len(conn.query(obd.commands.GET_DTC).messages) == 2  # engine and gearbox
        finally:
            conn.close()
