# SPDX-License-Identifier: MIT
"""The third-party ELM327-emulator as an independent reference for our framing.

Both get the same standard requests over a pseudo-terminal; values differ (different
cars), the framing must not: header ids, PCI bytes, byte counts, multi-frame layout.
"""

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from firmware_sim.elm327 import Elm327
from firmware_sim.static_reader import StaticReader, running_state
from firmware_sim.transport import PtyDongle
from firmware_sim.vehicle import EcuSnapshot

elm_emulator = pytest.importorskip("elm")

REQUESTS = ("ATE0", "ATL0", "ATS1", "ATH1", "ATSP6", "0100", "010C", "010D", "0902", "03")
# Headers off as well: multi-frame messages become "014" + indexed lines.
MORE = ("ATH0", "0100", "010D", "0902", "03")


def exchange(port: serial.Serial, requests: tuple[str, ...]) -> list[list[str]]:
    """Reply lines to each request, without the prompt and the blank line before it."""
    out = []
    for cmd in requests:
        port.write(cmd.encode() + b"\r")
        reply = port.read_until(b">").decode()
        assert reply.endswith(">"), (cmd, reply)
        # The emulator says SEARCHING... even after a manual ATSP6; the chip does not.
        out.append(
            [ln.strip() for ln in reply[:-1].split("\r") if ln.strip() and ln != "SEARCHING..."]
        )
    return out


def shape(line: str) -> tuple[object, ...]:
    """A reply line's framing with the data values taken out."""
    if line.isalpha() or not re.fullmatch(r"[0-9A-F: ]+", line):
        return ("text", line)
    if m := re.fullmatch(r"([0-9A-F]):(.*)", line):  # "1: 32 30 ..." of a headers-off message
        return ("index", m.group(1), len(m.group(2).split()))
    tokens = line.split()
    if len(tokens) == 1:
        return ("length", tokens[0])  # "014": total length of a headers-off message
    if len(tokens[0]) == 3:  # headers on: id, PCI, data up to the length the PCI declares
        pci = int(tokens[1], 16)
        kind = pci >> 4
        declared = pci & 0x0F if kind == 0 else 6 if kind == 1 else 7
        assert len(tokens) - 2 >= declared, line
        head = tokens[2] if kind == 1 else ""  # a first frame's length byte
        return ("frame", tokens[0], tokens[1] if kind != 0 else kind, declared, head)
    return ("data", len(tokens), tokens[0])  # headers off single frame: service byte first


@pytest.fixture
def emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[serial.Serial]:
    monkeypatch.chdir(tmp_path)  # it may write a log file into the working directory
    with elm_emulator.Elm() as emu:
        deadline = time.monotonic() + 5
        while emu.slave_name is None and time.monotonic() < deadline:
            time.sleep(0.02)
        emu.set_sorted_obd_msg(scenario="car")
        with serial.Serial(emu.slave_name, 38400, timeout=3) as port:
            yield port


@pytest.fixture
def ours() -> Iterator[serial.Serial]:
    snap = EcuSnapshot("WP0ZZZ99ZTS390000", running_state(), True, ())
    with (
        PtyDongle(Elm327(StaticReader(snap))) as dongle,
        serial.Serial(dongle.path, 38400, timeout=3) as port,
    ):
        yield port


def test_same_framing_as_the_reference_emulator(
    emulator: serial.Serial, ours: serial.Serial
) -> None:
    theirs = exchange(emulator, REQUESTS + MORE)
    mine = exchange(ours, REQUESTS + MORE)
    assert theirs[0] == mine[0] == ["ATE0", "OK"]  # echo still on while ATE0 arrives
    for cmd, a, b in zip(REQUESTS + MORE, theirs, mine, strict=True):
        assert [shape(x) for x in b] == [shape(x) for x in a], cmd
    # The reference really was multi-frame for the VIN: the comparison is not vacuous.
    assert [shape(x)[0] for x in theirs[REQUESTS.index("0902")]] == ["frame"] * 3
