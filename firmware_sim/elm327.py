# SPDX-License-Identifier: MIT
"""An ELM327 v1.5 protocol engine: one command line in, the adapter's exact reply out.

The car speaks ISO 15765-4 CAN (11-bit, 500 kbit/s, ELM protocol 6); replies are
framed as ISO-TP single or multi-frame messages from the engine ECU (7E8) and
formatted the way the chip does for the current E/L/S/H settings.  ``handle`` is
total: every input line gets a reply ending in the ``>`` prompt, never an exception.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Protocol

from firmware_sim import obd_pids
from firmware_sim.vehicle import EcuSnapshot

VERSION = "ELM327 v1.5"
DEVICE_DESCRIPTION = "OBDII to RS232 Interpreter"
ECU_RESPONSE_ID = "7E8"
# Headers the engine ECU listens to: the functional broadcast and its own.
ECU_REQUEST_IDS = ("7DF", "7E0", "18DB33F1", "18DA10F1")
# ISO 15765-4 ECUs pad every frame to 8 bytes; the fill value varies by maker.
CAN_PAD = 0x00
PROTOCOL_NAMES = {
    "1": "SAE J1850 PWM",
    "2": "SAE J1850 VPW",
    "3": "ISO 9141-2",
    "4": "ISO 14230-4 (KWP 5BAUD)",
    "5": "ISO 14230-4 (KWP FAST)",
    "6": "ISO 15765-4 (CAN 11/500)",
    "7": "ISO 15765-4 (CAN 29/500)",
    "8": "ISO 15765-4 (CAN 11/250)",
    "9": "ISO 15765-4 (CAN 29/250)",
    "A": "SAE J1939 (CAN 29/250)",
    "B": "USER1 CAN (11/125)",
    "C": "USER2 CAN (11/50)",
}
VEHICLE_PROTOCOL = "6"
# Settings commands we accept without them changing what we print.
_ACCEPTED = re.compile(
    r"AT(?:[012]|AT[012]|ST[0-9A-F]{1,2}|PC|M[01]|CAF[01]|CFC[01]|AL|NL|LP|BI|"
    r"SH[0-9A-F]{3}|SH[0-9A-F]{6}|SH[0-9A-F]{8}|TA[0-9A-F]{2})"
)


class VehicleReader(Protocol):
    """What the dongle needs from a car: a consistent snapshot and a way to clear codes."""

    def snapshot(self) -> EcuSnapshot: ...

    def clear_dtcs(self) -> None: ...


def isotp_frames(payload: bytes) -> list[bytes]:
    """Split a payload into 8-byte ISO-TP CAN frames (single, or first + consecutive)."""
    if len(payload) <= 7:
        frame = bytes([len(payload)]) + payload
        return [frame.ljust(8, bytes([CAN_PAD]))]
    frames = [bytes([0x10 | (len(payload) >> 8), len(payload) & 0xFF]) + payload[:6]]
    rest, seq = payload[6:], 1
    while rest:
        frames.append((bytes([0x20 | (seq & 0x0F)]) + rest[:7]).ljust(8, bytes([CAN_PAD])))
        rest, seq = rest[7:], seq + 1
    return frames


class Elm327:
    """The adapter's command interpreter; thread-safe, one call per received line."""

    def __init__(
        self, vehicle_reader: VehicleReader, *, protocol: str = "6", latency_s: float = 0.0
    ) -> None:
        self.vehicle = vehicle_reader
        self.latency_s = latency_s
        self._default_protocol = protocol.upper()
        self._lock = threading.Lock()
        self._last_obd = ""
        self._reset()

    def _reset(self) -> None:
        self.echo = True
        self.linefeeds = False
        self.spaces = True
        self.headers = False
        self.header = "7DF"
        self._set_protocol(self._default_protocol)

    def _set_protocol(self, p: str) -> None:
        # "0" and "Ax" mean automatic search (starting from x); the result is locked in
        # after the first successful exchange with the car.
        self.auto = p == "0" or (len(p) == 2 and p[0] == "A")
        self.protocol = VEHICLE_PROTOCOL if p == "0" else p[-1]
        self.locked = not self.auto

    # -- public -----------------------------------------------------------------
    def handle(self, command: str) -> str:
        """Reply to one command line exactly as the chip would, prompt included."""
        with self._lock:
            raw = command.strip("\r\n")
            echo_on = self.echo  # the chip echoes while receiving, before acting
            try:
                lines = self._dispatch(raw)
            except Exception:  # the dongle must never die on input; a real one says "?"
                lines = ["?"]
            eol = "\r\n" if self.linefeeds else "\r"
            echo = raw + eol if echo_on else ""
            return echo + "".join(line + eol for line in lines) + eol + ">"

    # -- dispatch ---------------------------------------------------------------
    def _dispatch(self, raw: str) -> list[str]:
        cmd = raw.replace(" ", "").upper()
        if cmd == "":
            if not self._last_obd:
                return ["?"]
            cmd = self._last_obd
        if not cmd.isascii() or not cmd.isprintable():
            return ["?"]
        if cmd.startswith("AT"):
            return self._at(cmd)
        if re.fullmatch(r"[0-9A-F]+", cmd) and len(cmd) >= 2:
            self._last_obd = cmd
            return self._obd(cmd)
        return ["?"]

    def _at(self, cmd: str) -> list[str]:
        arg = cmd[2:]
        if arg in ("Z", "WS"):
            self._reset()
            return ["", "", VERSION]
        if arg == "D":
            self._reset()
            return ["OK"]
        if arg == "I":
            return [VERSION]
        if arg == "@1":
            return [DEVICE_DESCRIPTION]
        flags = {"E": "echo", "L": "linefeeds", "S": "spaces", "H": "headers"}
        if len(arg) == 2 and arg[0] in flags and arg[1] in "01":
            setattr(self, flags[arg[0]], arg[1] == "1")
            return ["OK"]
        m = re.fullmatch(r"(SP|TP)(A?[0-9A-C])", arg)
        if m:
            self._set_protocol(m.group(2) if m.group(2) != "A0" else "0")
            return ["OK"]
        if arg == "DP":
            name = PROTOCOL_NAMES[self.protocol] if self.locked else ""
            return [("AUTO, " + name).rstrip(", ") if self.auto else name]
        if arg == "DPN":
            return [("A" if self.auto else "") + (self.protocol if self.locked else "0")]
        if arg == "RV":
            return [f"{self.vehicle.snapshot().state.module_voltage_v:.1f}V"]
        if _ACCEPTED.fullmatch(cmd):
            if arg.startswith("SH"):
                self.header = arg[2:]
            return ["OK"]
        return ["?"]

    # -- OBD requests -----------------------------------------------------------
    def _obd(self, cmd: str) -> list[str]:
        if len(cmd) % 2:
            cmd = cmd[:-1]  # a trailing single digit is the expected response count
        request = bytes.fromhex(cmd)
        if self.latency_s > 0:
            time.sleep(self.latency_s)
        snap = self.vehicle.snapshot()
        prefix = ["SEARCHING..."] if self.auto and not self.locked else []
        if not snap.state.ignition_on:
            # The ECUs are asleep: nothing answers, and an automatic search starts over.
            if self.auto:
                self.locked = False
            return [*prefix, "UNABLE TO CONNECT"]
        if self.protocol != VEHICLE_PROTOCOL:
            return [*prefix, "UNABLE TO CONNECT"] if self.auto else ["UNABLE TO CONNECT"]
        self.locked = True
        payload = self._ecu_reply(request, snap) if self.header in ECU_REQUEST_IDS else None
        if payload is None:
            return [*prefix, "NO DATA"]
        return [*prefix, *self._format(isotp_frames(payload))]

    def _ecu_reply(self, request: bytes, snap: EcuSnapshot) -> bytes | None:
        service, pids = request[0], request[1:]
        if service == 0x01 and 1 <= len(pids) <= 6:
            parts = b""
            for pid in pids:
                data = obd_pids.service_01(pid, snap)
                if data is not None:
                    parts += bytes([pid]) + data
            return b"\x41" + parts if parts else None
        if service == 0x09 and len(pids) == 1:
            data = obd_pids.service_09(pids[0], snap)
            return None if data is None else bytes([0x49, pids[0]]) + data
        if service == 0x03 and not pids:
            return b"\x43" + obd_pids.service_03(snap)
        if service == 0x07 and not pids:
            return b"\x47\x00"  # the simulated car has no pending codes
        if service == 0x04 and not pids:
            self.vehicle.clear_dtcs()
            return b"\x44"
        return None

    def _format(self, frames: list[bytes]) -> list[str]:
        sep = " " if self.spaces else ""

        def hexs(b: bytes) -> str:
            return sep.join(f"{x:02X}" for x in b)

        if self.headers:
            return [ECU_RESPONSE_ID + sep + hexs(f) for f in frames]
        if len(frames) == 1:
            return [hexs(frames[0][1 : 1 + frames[0][0]])]
        # Headers off, multi-frame: the chip prints the total length, then indexed lines.
        length = ((frames[0][0] & 0x0F) << 8) | frames[0][1]
        lines = [f"{length:03X}", f"0:{sep}{hexs(frames[0][2:])}"]
        lines += [f"{i & 0x0F:X}:{sep}{hexs(f[1:])}" for i, f in enumerate(frames[1:], 1)]
        return lines
