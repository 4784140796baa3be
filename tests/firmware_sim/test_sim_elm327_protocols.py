# SPDX-License-Identifier: MIT
"""Datasheet behaviour per bus: headers, checksums, multi-frame layouts, several ECUs."""

import pytest

from firmware_sim.elm327 import Elm327
from firmware_sim.static_reader import StaticReader, running_state
from firmware_sim.vehicle import EcuSnapshot

VIN = "WDB2030461A123457"
FOUR_CODES = ("P0301", "C0035", "B1234", "U0100")


def make(protocol: str, **fields: object) -> tuple[Elm327, StaticReader]:
    """An adapter on ``protocol`` with echo off and headers on, as diagnostic tools set it."""
    snap = EcuSnapshot(VIN, running_state(), True, (), protocol=protocol)
    reader = StaticReader(snap)
    reader.update(**fields)
    elm = Elm327(reader, protocol=protocol)
    for cmd in ("ATE0", "ATH1"):
        elm.handle(cmd)
    return elm, reader


def lines(reply: str) -> list[str]:
    assert reply.endswith("\r\r>")
    return reply[:-3].split("\r")


def test_can_11bit_two_ecus_answer_a_functional_request() -> None:
    elm, _ = make("6", has_transmission_ecu=True)
    assert lines(elm.handle("0100")) == [
        "7E8 06 41 00 98 18 80 01 00",
        "7E9 06 41 00 00 08 00 00 00",  # the gearbox supports only vehicle speed
    ]
    assert elm.handle("ATSH7E1") == "OK\r\r>"
    assert lines(elm.handle("010D")) == ["7E9 03 41 0D 50 00 00 00 00"]
    assert lines(elm.handle("010C")) == ["NO DATA"]  # the gearbox has no rpm
    elm.handle("ATSH7E0")
    assert lines(elm.handle("010D")) == ["7E8 03 41 0D 50 00 00 00 00"]
    # A physical request for a service the ECU lacks gets a negative response ...
    assert lines(elm.handle("05")) == ["7E8 03 7F 05 11 00 00 00 00"]
    elm.handle("ATSH7DF")
    # ... a functional one gets silence (ISO 15765-4 suppresses NRC 11).
    assert lines(elm.handle("05")) == ["NO DATA"]


def test_can_29bit_headers_and_multiframe() -> None:
    elm, _ = make("7", has_transmission_ecu=True, dtcs=FOUR_CODES)
    assert lines(elm.handle("03")) == [
        "18 DA F1 10 10 0A 43 04 03 01 40 35",
        "18 DA F1 10 21 92 34 C1 00 00 00 00",
        "18 DA F1 18 02 43 00 00 00 00 00 00",
    ]
    elm.handle("ATSH DA 18 F1")  # 6 digits: priority 18 from ATCP
    assert lines(elm.handle("010D")) == ["18 DA F1 18 03 41 0D 50 00 00 00 00"]
    elm.handle("ATSH18DA10F1")
    elm.handle("ATS0")
    assert lines(elm.handle("010D")) == ["18DAF11003410D5000000000"]
    elm.handle("ATSH7E0")  # an 11-bit header means nothing on a 29-bit bus
    assert lines(elm.handle("010D")) == ["NO DATA"]


def test_iso9141_header_checksum_and_messages() -> None:
    elm, _ = make("3", dtcs=FOUR_CODES)
    # Manual protocol: the slow init is printed before the first answer only.
    assert lines(elm.handle("010C")) == ["BUS INIT: ...OK", "48 6B 10 41 0C 1A F8 22"]
    assert lines(elm.handle("010C")) == ["48 6B 10 41 0C 1A F8 22"]
    # Several PIDs are a CAN feature: the K-line ECU answers the first one.
    assert lines(elm.handle("010C0D")) == ["48 6B 10 41 0C 1A F8 22"]
    # Three codes per message, no count byte, padded with 00 00.
    assert lines(elm.handle("03")) == [
        "48 6B 10 43 03 01 40 35 92 34 45",
        "48 6B 10 43 C1 00 00 00 00 00 C7",
    ]
    elm.handle("ATH0")
    assert lines(elm.handle("0902")) == [
        "49 02 01 00 00 00 57",
        "49 02 02 44 42 32 30",
        "49 02 03 33 30 34 36",
        "49 02 04 31 41 31 32",
        "49 02 05 33 34 35 37",
    ]
    assert lines(elm.handle("0904")) == [
        "49 04 01 57 4C 53 49",
        "49 04 02 4D 30 30 30",
        "49 04 03 30 30 30 30",
        "49 04 04 30 30 30 31",
    ]
    assert lines(elm.handle("ATPC")) == ["OK"]
    assert lines(elm.handle("010D"))[0] == "BUS INIT: ...OK"  # protocol closed: init again


def test_iso9141_physical_addressing() -> None:
    elm, _ = make("3", has_transmission_ecu=True)
    elm.handle("ATH0")
    assert lines(elm.handle("0100")) == [
        "BUS INIT: ...OK",
        "41 00 98 18 80 01",
        "41 00 00 08 00 00",
    ]
    elm.handle("ATSH6C18F1")
    assert lines(elm.handle("0100")) == ["41 00 00 08 00 00"]


def test_caf0_shows_raw_frames_and_needs_the_pci_byte() -> None:
    elm, _ = make("6")
    assert elm.handle("ATCAF0") == "OK\r\r>"
    assert lines(elm.handle("010D")) == ["NO DATA"]  # no PCI byte: the ECU ignores it
    assert lines(elm.handle("02010D")) == ["7E8 03 41 0D 50 00 00 00 00"]
    elm.handle("ATH0")
    assert lines(elm.handle("020902")) == [
        "10 14 49 02 01 57 44 42",
        "21 32 30 33 30 34 36 31",
        "22 41 31 32 33 34 35 37",
    ]
    elm.handle("ATCAF1")
    assert lines(elm.handle("010D")) == ["41 0D 50"]


@pytest.mark.parametrize("protocol", ["6", "7"])
def test_multi_pid_and_response_count(protocol: str) -> None:
    elm, _ = make(protocol, has_transmission_ecu=True)
    elm.handle("ATH0")
    # One request, six PIDs: one ISO-TP message with every PID/value pair.
    assert lines(elm.handle("01 0C 0D 05 5C 46 2F")) == [
        "00E",
        "0: 41 0C 1A F8 0D 50",
        "1: 05 80 5C 87 46 34 2F",
        "2: 80 00 00 00 00 00 00",
        "41 0D 50",
    ]
    assert lines(elm.handle("01 0C 0D 05 5C 46 2F 11")) == ["?"]  # more than a frame holds
    # The count suffix: return after the first frame, the gearbox is not waited for.
    assert lines(elm.handle("010D1")) == ["41 0D 50"]
    assert lines(elm.handle("010D2")) == ["41 0D 50", "41 0D 50"]


def test_freeze_frame_service_02() -> None:
    frame = running_state(speed_kmh=30.0, engine_rpm=2500.0)
    elm, _ = make("6", dtcs=("P0301",), freeze_frame=frame, freeze_frame_dtc="P0301")
    elm.handle("ATH0")
    assert lines(elm.handle("020000")) == ["42 00 00 58 18 80 00"]
    assert lines(elm.handle("020200")) == ["42 02 00 03 01"]  # the code that froze it
    assert lines(elm.handle("020D00")) == ["42 0D 00 1E"]  # 30 km/h then, 80 now
    assert lines(elm.handle("020C00")) == ["42 0C 00 27 10"]
    assert lines(elm.handle("020D01")) == ["NO DATA"]  # only frame 00 exists


def test_codes_mil_and_clear() -> None:
    elm, reader = make(
        "6",
        dtcs=("P0301", "P0420", "C0035"),
        pending_dtcs=("P0171",),
        permanent_dtcs=("P0420",),
        freeze_frame=running_state(),
        freeze_frame_dtc="P0301",
    )
    elm.handle("ATH0")
    assert lines(elm.handle("0101")) == ["41 01 83 07 00 00"]  # MIL on, 3 codes
    # Count byte + 3 codes = 8 bytes: one more than a single frame holds.
    assert lines(elm.handle("03")) == ["008", "0: 43 03 03 01 04 20", "1: 40 35 00 00 00 00 00"]
    assert lines(elm.handle("07")) == ["47 01 01 71"]
    assert lines(elm.handle("0A")) == ["4A 01 04 20"]
    assert lines(elm.handle("04")) == ["44"]
    assert reader.snap.dtcs == () and reader.snap.pending_dtcs == ()
    assert reader.snap.freeze_frame is None
    assert lines(elm.handle("0A")) == ["4A 01 04 20"]  # permanent codes survive a clear
    assert lines(elm.handle("0101")) == ["41 01 00 07 00 00"]
    assert lines(elm.handle("03")) == ["43 00"]
    assert lines(elm.handle("020200")) == ["NO DATA"]


def test_electric_car_lists_few_pids_and_dropouts_give_no_data() -> None:
    elm, _ = make("6", kind="electric", dropped_pids=frozenset({0x46}))
    elm.handle("ATH0")
    # 01, 0D listed in 00; 42, 46 in 40; A6 in A0; no rpm, temperatures or fuel level.
    assert lines(elm.handle("0100")) == ["41 00 80 08 00 01"]
    assert lines(elm.handle("0140")) == ["41 40 44 00 00 01"]
    assert lines(elm.handle("010C")) == ["NO DATA"]
    assert lines(elm.handle("0105")) == ["NO DATA"]
    assert lines(elm.handle("0146")) == ["NO DATA"]  # listed, but the sensor dropped out
    assert lines(elm.handle("0142")) == ["41 42 37 78"]
