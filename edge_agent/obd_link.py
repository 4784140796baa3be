# SPDX-License-Identifier: MIT
"""The adapter link: python-OBD over serial, Bluetooth RFCOMM or TCP, mapped to our signals."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import obd
import serial
from obd import OBDCommand, OBDStatus
from obd.protocols import ECU

from edge_agent import pids
from edge_agent.errors import AdapterError
from edge_agent.vin import decode_vin
from telemetry.signals import SIGNALS, Signal, by_pid

log = logging.getLogger(__name__)


def _odometer(messages: list[Any]) -> float | None:
    data = messages[0].data[2:]
    signal = by_pid(0xA6)
    if signal is None or signal.length is None or len(data) < signal.length:
        return None
    return signal.decode(data)


def _bitmap(messages: list[Any]) -> list[bool] | None:
    data = messages[0].data[2:6]
    if len(data) < 4:
        return None
    bits = int.from_bytes(data, "big")
    return [bool(bits >> (31 - i) & 1) for i in range(32)]


def _raw_frames(messages: list[Any]) -> list[bytes]:
    return [bytes(m.data) for m in messages]


# python-OBD 0.7.3 has no odometer command (PID 0xA6, SAE J1979 2019) nor its support bitmap
# (PID 0xA0), and its VIN decoder mangles VINs (see edge_agent.vin); all three are defined here.
ODOMETER = OBDCommand("ODOMETER", "Odometer", b"01A6", 6, _odometer, ECU.ENGINE, True)
# Trouble codes as raw frames: python-OBD has no service 0A (permanent codes), and its
# descriptions table is of no use on the device.
DTC_COMMANDS = {
    kind: OBDCommand(f"DTC_{kind.upper()}_RAW", f"{kind} trouble codes", mode, 0, _raw_frames,
                     ECU.ALL, False)
    for kind, mode in (("stored", b"03"), ("pending", b"07"), ("permanent", b"0A"))
}  # fmt: skip
PIDS_A0 = OBDCommand("PIDS_A0", "Supported PIDs [A1-C0]", b"01A0", 6, _bitmap, ECU.ENGINE, True)
VIN_RAW = OBDCommand("VIN_RAW", "VIN, raw frames", b"0902", 0, _raw_frames, ECU.ENGINE, False)

# Our unit -> the pint unit python-OBD's decoders give the quantity in.
_PINT_UNITS = {"km/h": "kph", "rpm": "rpm", "%": "percent", "°C": "degC", "V": "volt"}


def _command(signal: Signal) -> tuple[OBDCommand, str | None]:
    """python-OBD's command for a signal's PID, and the unit to convert its quantity to."""
    if signal.pid == ODOMETER.pid:
        return ODOMETER, None
    return obd.commands[1][signal.pid], _PINT_UNITS[signal.unit]


# Our signal name -> (python-OBD command, unit to convert its pint quantity to), for every
# signal of the catalogue that has a PID.
SIGNAL_COMMANDS: dict[str, tuple[OBDCommand, str | None]] = {
    s.name: _command(s) for s in SIGNALS if s.pid is not None
}


# ISO 15765-4 protocol numbers as the ELM327 reports them (DPN): CAN lets one request carry
# up to six PIDs; the legacy protocols answer one PID per request.
CAN_PROTOCOLS = frozenset("6789")


def _multi_command(pid_list: tuple[int, ...]) -> OBDCommand:
    name = "MULTI_" + "_".join(f"{p:02X}" for p in pid_list)
    # fast=True lets python-OBD append the number of reply frames it saw the first time
    # (e.g. "010C0D0405112"), so the adapter returns at once instead of waiting out its
    # timeout for ECUs that will never answer.
    return OBDCommand(
        name, "Several PIDs", pids.request(list(pid_list)), 0, _raw_frames, ECU.ENGINE, True
    )


_CAPTURE_LOCK = threading.Lock()


@contextmanager
def _capture_port() -> Iterator[list[Any]]:
    """Record the pyserial port python-OBD opens, which it forgets when the link breaks.

    python-OBD drops its only reference to the port on a read error, so without this the
    socket of a hung-up Wi-Fi adapter could never be closed (see ``_close``).
    """
    opened: list[Any] = []
    original = serial.serial_for_url

    def recording(*args: Any, **kwargs: Any) -> Any:
        port = original(*args, **kwargs)
        # Hold the socket too: pyserial forgets it on a failed close, and it must stay
        # reachable until we close it ourselves.
        opened.append((port, getattr(port, "_socket", None)))
        return port

    with _CAPTURE_LOCK:
        serial.serial_for_url = recording
        try:
            yield opened
        finally:
            serial.serial_for_url = original


def _port_of(conn: obd.OBD) -> Any:
    return getattr(conn.interface, "_ELM327__port", None) if conn.interface else None


def _close(conn: obd.OBD, opened: tuple[Any, Any] | None = None) -> None:
    """Close a python-OBD connection and, whatever happens, its port and socket.

    Two leaks are closed here. python-OBD's close() writes ATZ first and skips closing the port
    when that write fails on a broken link. And pyserial's ``socket://`` close() shuts the
    socket down before closing it, in one try block: when the adapter already hung up, the
    shutdown fails and the socket stays open. Both would leak a descriptor per reconnect.
    """
    port, sock = opened or (_port_of(conn), None)
    try:
        conn.close()
    except Exception as exc:  # the link is gone; closing is all that is left to do
        log.debug("closing a broken adapter link: %s", exc)
    finally:
        if port is not None:
            port.close()
        if sock is not None:
            sock.close()


class ObdLink:
    """One python-OBD connection to an ELM327 adapter."""

    def __init__(
        self,
        port: str,
        *,
        baudrate: int | None = 38400,
        timeout_s: float = 2.0,
        multi_pid: bool = True,
        response_count: bool = True,
    ) -> None:
        # A pseudo-terminal or TCP socket has no real baud rate, and python-OBD's automatic
        # baud search fails on sockets; an explicit rate is required there and harmless here.
        self.port = port
        self.baudrate = baudrate
        self.timeout_s = timeout_s
        self.multi_pid = multi_pid
        # Append the expected-response count to requests python-OBD has seen answered once.
        self.response_count = response_count
        self._conn: obd.OBD | None = None
        self._port: Any = None
        self._multi_commands: dict[tuple[int, ...], OBDCommand] = {}

    def connect(self) -> None:
        """Open the adapter and reach the car; AdapterError when either fails."""
        with _capture_port() as opened:
            conn = obd.OBD(
                self.port,
                baudrate=self.baudrate,
                fast=self.response_count,
                timeout=self.timeout_s,
                check_voltage=False,
            )
        self._port = opened[0] if opened else None
        if conn.status() != OBDStatus.CAR_CONNECTED:
            status = conn.status()
            battery_v = None
            if status in (OBDStatus.ELM_CONNECTED, OBDStatus.OBD_CONNECTED):
                # The adapter answers but the car does not (ignition off): the adapter still
                # measures the battery on pin 16, which tells a parked car from a flat one.
                reply = conn.query(obd.commands.ELM_VOLTAGE, force=True)
                if not reply.is_null() and reply.value is not None:
                    battery_v = float(reply.value.to("volt").magnitude)
            _close(conn, self._port)
            raise AdapterError(f"adapter on {self.port}: {status}", battery_v=battery_v)
        log.info("connected to %s, protocol %s", self.port, conn.protocol_name())
        self._conn = conn

    @property
    def conn(self) -> obd.OBD:
        if self._conn is None:
            raise AdapterError("not connected")
        return self._conn

    def supported_signals(self) -> list[str]:
        """Our signals the car says it supports (from the service-01 support bitmaps)."""
        names = [n for n, (cmd, _) in SIGNAL_COMMANDS.items() if self.conn.supports(cmd)]
        if self._supports_odometer():
            names.append("odometer_km")
        return sorted(set(names))

    def _supports_odometer(self) -> bool:
        response = self.conn.query(PIDS_A0, force=True)
        if response.is_null() or response.value is None:
            return False
        bits = response.value  # 32 booleans, PID 0xA1 first
        return bool(bits[0xA6 - 0xA1])

    def read_vin(self) -> str | None:
        """The VIN from service 09, decoded from the raw frames."""
        response = self.conn.query(VIN_RAW, force=True)
        return None if response.is_null() else decode_vin(response.value)

    @property
    def is_can(self) -> bool:
        """True when the car speaks ISO 15765-4 CAN."""
        return str(self.conn.protocol_id()) in CAN_PROTOCOLS

    def read(self, names: Iterable[str]) -> dict[str, float]:
        """Current values of the named signals; a signal without a value is left out."""
        wanted = list(names)
        if self.multi_pid and self.is_can:
            return self._read_multi(wanted)
        return self._read_each(wanted)

    def _read_each(self, names: list[str]) -> dict[str, float]:
        values: dict[str, float] = {}
        for name in names:
            cmd, unit = SIGNAL_COMMANDS[name]
            response = self.conn.query(cmd, force=True)
            if response.is_null() or response.value is None:
                continue
            value = response.value
            values[name] = float(value.to(unit).magnitude if unit else value)
        return values

    def _read_multi(self, names: list[str]) -> dict[str, float]:
        by_pid = {SIGNAL_COMMANDS[n][0].pid: n for n in names}
        pid_list = list(by_pid)
        values: dict[str, float] = {}
        for start in range(0, len(pid_list), pids.MAX_PIDS_PER_REQUEST):
            chunk = tuple(pid_list[start : start + pids.MAX_PIDS_PER_REQUEST])
            cmd = self._multi_commands.get(chunk)
            if cmd is None:
                cmd = self._multi_commands[chunk] = _multi_command(chunk)
            response = self.conn.query(cmd, force=True)
            frames = [] if response.is_null() or response.value is None else response.value
            for data in frames:
                for pid, value in pids.parse_reply(data).items():
                    if pid in chunk and by_pid[pid] not in values:
                        values[by_pid[pid]] = value
        # A PID the ECU left out of a combined reply (unsupported right now) is simply absent,
        # exactly as a NO DATA to a single request would be.
        return values

    def read_dtcs(self) -> dict[str, tuple[str, ...]]:
        """Stored, pending and permanent trouble codes of every ECU that answers."""
        # On CAN the reply carries a count byte after the mode byte. Legacy protocols have
        # none, but python-OBD joins their messages and inserts a 0x00 in its place, so the
        # codes start at byte 2 either way.
        skip = 2
        result: dict[str, tuple[str, ...]] = {}
        for kind, cmd in DTC_COMMANDS.items():
            response = self.conn.query(cmd, force=True)
            codes: list[str] = []
            if not response.is_null() and response.value is not None:
                for data in response.value:
                    codes.extend(pids.dtc_codes(data[skip:]))
            result[kind] = tuple(dict.fromkeys(codes))  # one ECU may repeat another's code
        return result

    def close(self) -> None:
        """Close the adapter."""
        if self._conn is not None:
            _close(self._conn, self._port)
            self._conn = None
            self._port = None
