# SPDX-License-Identifier: MIT
"""The ELM327 engine on exact reply strings, the way a decoder is tested on hex."""

import pytest

from firmware_sim.elm327 import Elm327, isotp_frames
from firmware_sim.obd_pids import encode_dtc, support_bitmap
from firmware_sim.vehicle import Vehicle, VehicleSpec

VIN = "WDB2030461A123457"


@pytest.fixture
def car() -> Vehicle:
    v = Vehicle(VehicleSpec(vin=VIN, initial_dtcs=("P0301", "C0035"), initial_odometer_km=1234.5))
    v.ignition(True)
    s = v.state
    s.speed_kmh, s.engine_rpm, s.coolant_temp_c, s.oil_temp_c = 80.0, 1726.0, 88.0, 95.0
    s.module_voltage_v, s.fuel_level_pct, s.engine_load_pct = 14.2, 50.0, 40.0
    return v


@pytest.fixture
def elm(car: Vehicle) -> Elm327:
    e = Elm327(car)
    for cmd in ("ATE0", "ATH1", "ATL0", "ATSP6"):
        e.handle(cmd)
    return e


def test_reset_banner_with_echo() -> None:
    e = Elm327(Vehicle(VehicleSpec(vin=VIN)))
    assert e.handle("ATZ") == "ATZ\r\r\rELM327 v1.5\r\r>"
    assert e.handle("ATE0") == "ATE0\rOK\r\r>"
    assert e.handle("ATI") == "ELM327 v1.5\r\r>"
    assert e.handle("AT@1") == "OBDII to RS232 Interpreter\r\r>"


def test_settings_and_unknown(elm: Elm327) -> None:
    for cmd in ("ATS1", "AT1", "ATAT2", "ATST 32", "AT SH 7E0", "ATD"):
        assert elm.handle(cmd) == "OK\r\r>", cmd
    assert elm.handle("ATZZ") == "ATZZ\r?\r\r>"  # ATD restored echo on
    assert elm.handle("HELLO") == "HELLO\r?\r\r>"
    assert elm.handle("\x7f\x7f") == "\x7f\x7f\r?\r\r>"


def test_linefeeds_and_voltage(elm: Elm327) -> None:
    assert elm.handle("ATL1") == "OK\r\n\r\n>"
    assert elm.handle("AT RV") == "14.2V\r\n\r\n>"


def test_single_frames_with_headers(elm: Elm327) -> None:
    # 1726 rpm * 4 = 0x1AF8
    assert elm.handle("010C") == "7E8 04 41 0C 1A F8 00 00 00\r\r>"
    assert elm.handle("010D") == "7E8 03 41 0D 50 00 00 00 00\r\r>"
    assert elm.handle("0105") == "7E8 03 41 05 80 00 00 00 00\r\r>"
    assert elm.handle("015C") == "7E8 03 41 5C 87 00 00 00 00\r\r>"
    assert elm.handle("012F") == "7E8 03 41 2F 80 00 00 00 00\r\r>"
    assert elm.handle("0142") == "7E8 04 41 42 37 78 00 00 00\r\r>"
    assert elm.handle("01A6") == "7E8 06 41 A6 00 00 30 39 00\r\r>"  # 12345 * 0.1 km


def test_spacing_and_headers_off(elm: Elm327) -> None:
    elm.handle("ATS0")
    assert elm.handle("010C") == "7E804410C1AF8000000\r\r>"
    elm.handle("ATH0")
    assert elm.handle("010C") == "410C1AF8\r\r>"
    elm.handle("ATS1")
    assert elm.handle("010D") == "41 0D 50\r\r>"


def test_support_bitmaps(elm: Elm327) -> None:
    assert elm.handle("0100") == "7E8 06 41 00 98 18 80 01 00\r\r>"
    assert elm.handle("0140") == "7E8 06 41 40 44 00 00 11 00\r\r>"
    assert elm.handle("01A0") == "7E8 06 41 A0 04 00 00 00 00\r\r>"
    assert elm.handle("01C0") == "NO DATA\r\r>"
    assert support_bitmap(0x00, {0x01, 0x20}) == bytes([0x80, 0, 0, 0x01])


def test_odometer_absent_when_model_lacks_it() -> None:
    v = Vehicle(VehicleSpec(vin=VIN, supports_odometer_pid=False))
    v.ignition(True)
    e = Elm327(v)
    e.handle("ATH1")
    assert e.handle("01A6") == "01A6\rNO DATA\r\r>"
    assert e.handle("0180").endswith("NO DATA\r\r>")


def test_vin_multiframe(elm: Elm327) -> None:
    assert elm.handle("0902") == (
        "7E8 10 14 49 02 01 57 44 42\r7E8 21 32 30 33 30 34 36 31\r7E8 22 41 31 32 33 34 35 37\r\r>"
    )
    elm.handle("ATH0")
    assert elm.handle("0902") == (
        "014\r0: 49 02 01 57 44 42\r1: 32 30 33 30 34 36 31\r2: 41 31 32 33 34 35 37\r\r>"
    )


def test_dtcs_read_and_clear(elm: Elm327, car: Vehicle) -> None:
    assert elm.handle("03") == "7E8 06 43 02 03 01 40 35 00\r\r>"
    assert elm.handle("04") == "7E8 01 44 00 00 00 00 00 00\r\r>"
    assert car.dtcs == []
    assert elm.handle("03") == "7E8 02 43 00 00 00 00 00 00\r\r>"


def test_auto_protocol_search_and_ignition_off(elm: Elm327, car: Vehicle) -> None:
    assert elm.handle("ATSP0") == "OK\r\r>"
    assert elm.handle("ATDP") == "AUTO\r\r>"
    assert elm.handle("010D") == "SEARCHING...\r7E8 03 41 0D 50 00 00 00 00\r\r>"
    assert elm.handle("010D") == "7E8 03 41 0D 50 00 00 00 00\r\r>"
    assert elm.handle("ATDPN") == "A6\r\r>"
    assert elm.handle("ATDP") == "AUTO, ISO 15765-4 (CAN 11/500)\r\r>"
    car.ignition(False)
    assert elm.handle("010D") == "UNABLE TO CONNECT\r\r>"
    assert elm.handle("010D") == "SEARCHING...\rUNABLE TO CONNECT\r\r>"
    assert elm.handle("AT RV") == "12.4V\r\r>"


def test_unsupported_pid_and_repeat(elm: Elm327) -> None:
    assert elm.handle("0110") == "NO DATA\r\r>"
    assert elm.handle("010D") == elm.handle("")


def test_isotp_segmentation() -> None:
    frames = isotp_frames(bytes(range(20)))
    assert [f[0] for f in frames] == [0x10, 0x21, 0x22]
    assert all(len(f) == 8 for f in frames)
    assert frames[0][1] == 20
    assert encode_dtc("P0301") == b"\x03\x01"
    assert encode_dtc("U1A2B") == b"\xda\x2b"
