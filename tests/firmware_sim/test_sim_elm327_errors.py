# SPDX-License-Identifier: MIT
"""Error texts, protocol search, AT commands, clone quirks and adapter faults, in-process."""

import pytest

from firmware_sim.adapter_faults import AdapterFaults, FaultConfig
from firmware_sim.elm327 import Elm327
from firmware_sim.static_reader import StaticReader, running_state
from firmware_sim.vehicle import EcuSnapshot

VIN = "WDB2030461A123457"


def reader(protocol: str = "6", **state: float | bool) -> StaticReader:
    return StaticReader(EcuSnapshot(VIN, running_state(**state), True, (), protocol=protocol))


@pytest.mark.parametrize(
    ("bus", "name", "first"),
    [
        ("6", "ISO 15765-4 (CAN 11/500)", "7E8 03 41 0D 50 00 00 00 00"),
        ("7", "ISO 15765-4 (CAN 29/500)", "18 DA F1 10 03 41 0D 50 00 00 00 00"),
        ("3", "ISO 9141-2", "48 6B 10 41 0D 50 61"),
    ],
)
def test_auto_search_finds_the_cars_bus(bus: str, name: str, first: str) -> None:
    elm = Elm327(reader(bus), protocol="0")
    elm.handle("ATE0")
    elm.handle("ATH1")
    assert elm.handle("ATDPN") == "A0\r\r>"
    assert elm.handle("ATDP") == "AUTO\r\r>"
    assert elm.handle("010D") == f"SEARCHING...\r{first}\r\r>"
    assert elm.handle("010D") == f"{first}\r\r>"
    assert elm.handle("ATDPN") == f"A{bus}\r\r>"
    assert elm.handle("ATDP") == f"AUTO, {name}\r\r>"
    elm.handle("ATSP A6")  # search again, starting from 6
    assert elm.handle("ATDPN") == "A6\r\r>"
    assert elm.handle("010D").startswith("SEARCHING...\r")


def test_ignition_off_and_wrong_bus_errors() -> None:
    car = reader("6", ignition_on=False)
    elm = Elm327(car, protocol="0")
    elm.handle("ATE0")
    assert elm.handle("0100") == "SEARCHING...\rUNABLE TO CONNECT\r\r>"
    elm.handle("ATSP6")
    assert elm.handle("0100") == "UNABLE TO CONNECT\r\r>"
    elm.handle("ATSP3")
    assert elm.handle("0100") == "BUS INIT: ...ERROR\r\r>"
    car.update(state=running_state())
    assert elm.handle("0100") == "BUS INIT: ...ERROR\r\r>"  # awake, but the car is on CAN
    elm.handle("ATSP7")
    assert elm.handle("0100") == "UNABLE TO CONNECT\r\r>"  # CAN, but 29-bit
    elm.handle("ATTP6")
    assert elm.handle("0100").startswith("41 00 ")
    assert elm.handle("ATDPN") == "6\r\r>"
    assert elm.handle("ATDP") == "ISO 15765-4 (CAN 11/500)\r\r>"


def test_at_commands() -> None:
    elm = Elm327(reader())
    assert elm.handle("ATZ") == "ATZ\r\r\rELM327 v1.5\r\r>"
    assert elm.handle("ATE0") == "ATE0\rOK\r\r>"  # echoed: the chip echoes as it receives
    assert elm.handle("ATI") == "ELM327 v1.5\r\r>"
    assert elm.handle("AT@1") == "OBDII to RS232 Interpreter\r\r>"
    assert elm.handle("ATRV") == "14.2V\r\r>"
    for cmd in ("ATST19", "ATAT0", "ATAT2", "AT1", "ATCAF1", "ATSH7E0", "ATSH DB33F1", "ATPC"):
        assert elm.handle(cmd) == "OK\r\r>", cmd
    assert elm.timeout_st == 0x19 and elm.adaptive_timing == 1 and elm.header == "DB33F1"
    for cmd in ("ATSH7E", "ATSP D", "ATZZ", "AT", "ATE2", "HELLO", "01G0"):
        assert elm.handle(cmd) == "?\r\r>", cmd
    elm.handle("ATL1")
    assert elm.handle("ATI") == "ELM327 v1.5\r\n\r\n>"
    assert elm.handle("ATWS") == "\r\rELM327 v1.5\r\r>"  # warm start: back to LF off
    assert elm.handle("ATD") == "ATD\rOK\r\r>"
    assert elm.header is None and elm.timeout_st == 0x32


def test_clone_acknowledges_but_ignores_some_commands() -> None:
    clone, genuine = Elm327(reader(), clone=True), Elm327(reader())
    for elm in (clone, genuine):
        elm.handle("ATE0")
        for cmd in ("ATST10", "ATAT0", "ATCAF0", "ATH1"):
            assert elm.handle(cmd) == "OK\r\r>"
    assert (clone.timeout_st, clone.adaptive_timing, clone.caf) == (0x32, 1, True)
    assert (genuine.timeout_st, genuine.adaptive_timing, genuine.caf) == (0x10, 0, False)
    assert clone.handle("010D") == "7E8 03 41 0D 50 00 00 00 00\r\r>"
    assert genuine.handle("010D") == "NO DATA\r\r>"  # CAF0 needs the PCI byte
    assert clone.handle("ATI") == "ELM327 v1.5\r\r>"


def test_can_error_bursts_and_bus_error_on_kline() -> None:
    faults = AdapterFaults(FaultConfig(can_error_probability=1.0, can_error_burst=3))
    elm = Elm327(reader(), faults=faults)
    elm.handle("ATE0")
    assert [elm.handle("010D") for _ in range(3)] == ["CAN ERROR\r\r>"] * 3
    kline = Elm327(
        reader("3"), protocol="3", faults=AdapterFaults(FaultConfig(can_error_probability=1.0))
    )
    assert kline.handle("010D").endswith("BUS ERROR\r\r>")


def test_intermittent_no_data_is_seeded() -> None:
    def run(seed: int) -> list[bool]:
        faults = AdapterFaults(FaultConfig(no_data_probability=0.3, seed=seed))
        elm = Elm327(reader(), faults=faults)
        elm.handle("ATE0")
        return [elm.handle("010D") == "NO DATA\r\r>" for _ in range(200)]

    first = run(7)
    assert first == run(7)
    assert first != run(8)
    assert 30 < sum(first) < 90  # ~60 expected
    assert Elm327(reader()).handle("ATI") == "ATI\rELM327 v1.5\r\r>"  # AT commands unaffected


def test_disconnect_silences_the_adapter() -> None:
    now = [0.0]
    faults = AdapterFaults(FaultConfig(), clock=lambda: now[0])
    elm = Elm327(reader(), faults=faults)
    elm.handle("ATE0")
    faults.disconnect(duration_s=5.0)
    assert elm.handle("ATI") == "" and elm.handle("010D") == ""
    now[0] = 5.1
    assert elm.handle("010D") == "41 0D 50\r\r>"
    faults = AdapterFaults(
        FaultConfig(disconnect_probability=1.0, disconnect_s=1.0), clock=lambda: now[0]
    )
    elm = Elm327(reader(), faults=faults)
    assert elm.handle("010D") == ""  # the request that hit the dropout is never answered
    assert faults.offline
