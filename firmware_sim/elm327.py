# SPDX-License-Identifier: MIT
"""An ELM327 protocol engine: one command line in, the adapter's exact reply out.

The car speaks the bus its snapshot names (CAN 11/500 ``6``, CAN 29/500 ``7`` or
ISO 9141-2 ``3``); ECUs answer per ``ecus``, frames are printed per ``framing`` under
the current E/L/S/H/CAF settings. ``handle`` is total: every input line gets a reply
ending in the ``>`` prompt (or nothing at all while an injected dropout lasts).
"""

from __future__ import annotations

import re
import threading
from typing import Protocol

from firmware_sim import ecus
from firmware_sim.adapter_faults import AdapterFaults
from firmware_sim.framing import Format, Frame, format_lines, frames_for, isotp_frames
from firmware_sim.vehicle import EcuSnapshot

__all__ = ["Elm327", "VehicleReader", "isotp_frames"]

VERSION = "ELM327 v1.5"
DEVICE_DESCRIPTION = "OBDII to RS232 Interpreter"
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
# Headers the chip uses until ATSH changes them: the functional (broadcast) address.
DEFAULT_HEADERS = {"11": "7DF", "29": "18DB33F1", "legacy": "686AF1"}
KLINE_INIT_PROTOCOLS = frozenset("345")  # buses that need a slow/fast init first
ST_UNIT_S = 0.004  # ATST counts in 4 ms steps (4.096 on the chip)
DEFAULT_ST = 0x32  # ~200 ms
# A v1.5 clone acknowledges these but does not implement them.
CLONE_IGNORED = re.compile(r"ST[0-9A-F]{1,2}|(?:AT)?[012]|CAF0")
# Settings accepted with OK that do not change what the simulator prints.
_ACCEPTED = re.compile(r"M[01]|CFC[01]|AL|NL|LP|BI|R[01]|V[01]|TA[0-9A-F]{2}|CP[0-9A-F]{2}")


class VehicleReader(Protocol):
    """What the dongle needs from a car: a consistent snapshot and a way to clear codes."""

    def snapshot(self) -> EcuSnapshot: ...

    def clear_dtcs(self) -> None: ...


class Elm327:
    """The adapter's command interpreter; thread-safe, one call per received line."""

    def __init__(
        self,
        vehicle_reader: VehicleReader,
        *,
        protocol: str = "6",
        latency_s: float = 0.0,
        clone: bool = False,
        faults: AdapterFaults | None = None,
    ) -> None:
        self.vehicle = vehicle_reader
        self.latency_s = latency_s
        self.clone = clone
        self.faults = faults
        self._default_protocol = protocol.upper()
        self._lock = threading.Lock()
        self._last_obd = ""
        self._reset()

    def _reset(self) -> None:
        self.echo, self.linefeeds, self.spaces, self.headers = True, False, True, False
        self.caf = True
        self.header: str | None = None  # None: the protocol's functional default
        self.timeout_st = DEFAULT_ST
        self.adaptive_timing = 1
        self._set_protocol(self._default_protocol)

    def _set_protocol(self, p: str) -> None:
        # "0" and "Ax" mean automatic search (starting from x); the result is locked in
        # after the first successful exchange with the car.
        self.auto = p == "0" or (len(p) == 2 and p[0] == "A")
        self.protocol = p[-1] if p != "0" else "0"
        self.locked = not self.auto
        self.bus_open = False

    # -- public -----------------------------------------------------------------
    def handle(self, command: str, *, interrupt: threading.Event | None = None) -> str:
        """Reply to one command line as the chip would; ``interrupt`` set = new input arrived."""
        with self._lock:
            if self.faults is not None and self.faults.offline:
                return ""  # unplugged: the line stays silent
            raw = command.strip("\r\n")
            echo_on = self.echo  # the chip echoes while receiving, before acting
            try:
                lines = self._dispatch(raw, interrupt or threading.Event())
            except Exception:  # the dongle must never die on input; a real one says "?"
                lines = ["?"]
            if lines is None:
                return ""
            eol = "\r\n" if self.linefeeds else "\r"
            echo = raw + eol if echo_on else ""
            return echo + "".join(line + eol for line in lines) + eol + ">"

    # -- dispatch ---------------------------------------------------------------
    def _dispatch(self, raw: str, interrupt: threading.Event) -> list[str] | None:
        cmd = raw.replace(" ", "").upper()
        if cmd == "":
            if not self._last_obd:
                return ["?"]
            cmd = self._last_obd  # a bare CR repeats the last request
        if not cmd.isascii() or not cmd.isprintable():
            return ["?"]
        if cmd.startswith("AT"):
            return self._at(cmd[2:])
        if re.fullmatch(r"[0-9A-F]+", cmd) and len(cmd) >= 2:
            self._last_obd = cmd
            return self._obd(cmd, interrupt)
        return ["?"]

    def _at(self, arg: str) -> list[str]:
        if self.clone and CLONE_IGNORED.fullmatch(arg):
            return ["OK"]
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
        if arg == "RV":
            return [f"{self.vehicle.snapshot().state.module_voltage_v:.1f}V"]
        flags = {"E": "echo", "L": "linefeeds", "S": "spaces", "H": "headers", "CAF": "caf"}
        if arg[:-1] in flags and arg[-1] in "01":
            setattr(self, flags[arg[:-1]], arg[-1] == "1")
            return ["OK"]
        if m := re.fullmatch(r"(?:SP|TP)(A?[0-9A-C])", arg):
            self._set_protocol(m.group(1) if m.group(1) != "A0" else "0")
            return ["OK"]
        if arg == "DP":
            name = PROTOCOL_NAMES.get(self.protocol, "") if self.locked else ""
            return [("AUTO, " + name).rstrip(", ") if self.auto else name]
        if arg == "DPN":
            return [("A" if self.auto else "") + self.protocol]
        if m := re.fullmatch(r"SH([0-9A-F]{3}|[0-9A-F]{6}|[0-9A-F]{8})", arg):
            self.header = m.group(1)
            return ["OK"]
        if m := re.fullmatch(r"ST([0-9A-F]{1,2})", arg):
            self.timeout_st = int(m.group(1), 16) or DEFAULT_ST  # ST 00 restores the default
            return ["OK"]
        if m := re.fullmatch(r"(?:AT)?([012])", arg):  # clones also take the short form
            self.adaptive_timing = int(m.group(1))
            return ["OK"]
        if arg == "PC":
            self.bus_open = False  # the next request initialises the bus again
            return ["OK"]
        if _ACCEPTED.fullmatch(arg):
            return ["OK"]
        return ["?"]

    # -- OBD requests -----------------------------------------------------------
    def _obd(self, cmd: str, interrupt: threading.Event) -> list[str] | None:
        count = 0
        if len(cmd) % 2:
            cmd, count = cmd[:-1], int(cmd[-1], 16)  # expected number of responses
        request = bytes.fromhex(cmd)
        if len(request) > (7 if self.caf else 8):
            return ["?"]  # more than one CAN frame of data
        fault = self.faults.on_request() if self.faults is not None else None
        if fault == "DISCONNECT":
            return None
        if self.latency_s > 0 and interrupt.wait(self.latency_s):
            return ["STOPPED"]
        snap = self.vehicle.snapshot()
        prefix, error = self._connect(snap)
        if error:
            return [*prefix, error]
        can = self.protocol in ecus.CAN_PROTOCOLS
        if fault == "BUS ERROR":
            return [*prefix, "CAN ERROR" if can else "BUS ERROR"]
        if fault == "NO DATA":
            return [*prefix, "NO DATA"]
        frames = self._exchange(request, snap, can=can)
        if count:
            frames = frames[:count]  # the chip stops listening after that many frames
        if not frames:
            # The chip waits out its timeout before giving up; only real when timing is on.
            if self.latency_s > 0 and interrupt.wait(self.timeout_st * ST_UNIT_S):
                return ["STOPPED"]
            return [*prefix, "NO DATA"]
        fmt = Format(headers=self.headers, spaces=self.spaces, caf=self.caf or not can)
        return [*prefix, *format_lines(self.protocol, frames, fmt)]

    def _connect(self, snap: EcuSnapshot) -> tuple[list[str], str | None]:
        """Search for or initialise the bus: (lines printed first, error text or None)."""
        awake = snap.state.ignition_on
        if self.auto:
            prefix = [] if self.locked else ["SEARCHING..."]
            if not awake or (self.locked and snap.protocol != self.protocol):
                self.locked = False  # the search starts over next time
                return prefix, "UNABLE TO CONNECT"
            self.protocol, self.locked, self.bus_open = snap.protocol, True, True
            return prefix, None
        kline = self.protocol in KLINE_INIT_PROTOCOLS
        if not awake or snap.protocol != self.protocol:
            self.bus_open = False
            return [], "BUS INIT: ...ERROR" if kline else "UNABLE TO CONNECT"
        prefix = ["BUS INIT: ...OK"] if kline and not self.bus_open else []
        self.bus_open = True
        return prefix, None

    def _exchange(self, request: bytes, snap: EcuSnapshot, *, can: bool) -> list[Frame]:
        """Send ``request`` on the bus and collect the frames the addressed ECUs send back."""
        if can and not self.caf:
            # Auto-formatting off: the caller supplies the PCI byte itself.
            if not request or request[0] != len(request) - 1:
                return []
            request = request[1:]
        if not request:
            return []
        targets, functional = ecus.addressed(
            self.protocol, self._header(can=can), ecus.ecus_of(snap)
        )
        if request == b"\x04" and ecus.ENGINE in targets:
            self.vehicle.clear_dtcs()
        frames: list[Frame] = []
        for ecu in targets:
            reply = ecus.answer(ecu, request, snap, protocol=self.protocol, functional=functional)
            frames += frames_for(self.protocol, ecu, reply)
        return frames

    def _header(self, *, can: bool) -> str:
        is_29 = can and self.protocol not in ecus.CAN_11BIT_PROTOCOLS
        if self.header is None:
            return DEFAULT_HEADERS["29" if is_29 else "11" if can else "legacy"]
        if is_29 and len(self.header) == 3:
            return "18000" + self.header  # "SH xyz" means "SH 00 0x yz" on the chip
        if is_29 and len(self.header) == 6:
            return "18" + self.header  # priority byte from ATCP (default 18)
        return self.header
