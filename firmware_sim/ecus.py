# SPDX-License-Identifier: MIT
"""The car's ECUs on the bus: who is addressed by a header, and what each one answers.

Answers are whole OBD messages (service byte first). On CAN an ECU sends one message
per request (ISO-TP splits it later, see ``framing``); on ISO 9141-2 a message holds at
most 7 data bytes, so trouble codes and service 09 come as several numbered messages.
"""

from __future__ import annotations

from dataclasses import dataclass

from firmware_sim import obd_pids
from firmware_sim.vehicle import EcuSnapshot

CAN_PROTOCOLS = frozenset("6789ABC")
CAN_11BIT_PROTOCOLS = frozenset("68BC")
# ISO 9141-2 / KWP messages carry up to 7 data bytes after the 3-byte header.
LEGACY_MAX_DATA = 7
# ISO 15765-4: ECUs do not send these negative responses to functional requests.
NRC_SERVICE_NOT_SUPPORTED = 0x11


@dataclass(frozen=True)
class Ecu:
    """One control unit: its source address (29-bit CAN, ISO 9141) and 11-bit offset."""

    name: str
    address: int
    can11_offset: int


ENGINE = Ecu("engine", 0x10, 0)
TRANSMISSION = Ecu("transmission", 0x18, 1)


def ecus_of(snap: EcuSnapshot) -> tuple[Ecu, ...]:
    """The ECUs that answer OBD requests on this car, engine first (it wins arbitration)."""
    return (ENGINE, TRANSMISSION) if snap.has_transmission_ecu else (ENGINE,)


def addressed(protocol: str, header: str, ecus: tuple[Ecu, ...]) -> tuple[tuple[Ecu, ...], bool]:
    """(ECUs a request sent with ``header`` reaches, whether it was a functional request)."""
    h = int(header, 16)
    if protocol in CAN_11BIT_PROTOCOLS:
        can_id = h & 0x7FF  # the chip sends only the low 11 bits of a longer header
        if can_id == 0x7DF:
            return ecus, True
        return tuple(e for e in ecus if can_id == 0x7E0 + e.can11_offset), False
    if protocol in CAN_PROTOCOLS:  # 29-bit: priority, DB/DA, target, source (tester F1)
        mode, target = (h >> 16) & 0xFF, (h >> 8) & 0xFF
        if mode == 0xDB and target == 0x33:
            return ecus, True
        return tuple(e for e in ecus if mode == 0xDA and target == e.address), False
    target = (h >> 8) & 0xFF  # ISO 9141-2: priority, target, source
    if target == 0x6A:
        return ecus, True
    return tuple(e for e in ecus if target == e.address), False


def _service_01(ecu: Ecu, pids: bytes, snap: EcuSnapshot, can: bool) -> list[bytes]:
    encode = obd_pids.service_01 if ecu is ENGINE else obd_pids.transmission_01
    if not can:
        pids = pids[:1]  # J1979 allows several PIDs per request on CAN only
    body = b""
    for pid in pids:
        data = encode(pid, snap)
        if data is not None:
            body += bytes([pid]) + data
    return [b"\x41" + body] if body else []


def _service_02(pids: bytes, snap: EcuSnapshot, can: bool) -> list[bytes]:
    # Requests pair each PID with a frame number; a bare PID is read as frame 00.
    pairs = [(pids[i], pids[i + 1]) for i in range(0, len(pids) - 1, 2)] or [(pids[0], 0)]
    if not can:
        pairs = pairs[:1]
    body = b""
    for pid, frame in pairs:
        data = obd_pids.service_02(pid, snap) if frame == 0 else None
        if data is not None:
            body += bytes([pid, frame]) + data
    return [b"\x42" + body] if body else []


def _dtcs(service: int, ecu: Ecu, snap: EcuSnapshot, can: bool) -> list[bytes]:
    codes = obd_pids.encoded_dtcs(obd_pids.dtc_codes(service, snap)) if ecu is ENGINE else []
    sid = bytes([service + 0x40])
    if can:
        return [sid + bytes([len(codes)]) + b"".join(codes)]
    # ISO 9141-2: three codes per message, no count byte, padded with 00 00.
    groups = [codes[i : i + 3] for i in range(0, len(codes), 3)] or [[]]
    return [sid + b"".join(g).ljust(6, b"\0") for g in groups]


def _service_09(pid: int, snap: EcuSnapshot, can: bool) -> list[bytes]:
    data = obd_pids.service_09(pid, snap)
    if data is None:
        return []
    if can or pid == 0x00:
        return [bytes([0x49, pid]) + data]
    # Legacy: numbered messages of 4 characters; the VIN's first one is NUL-padded.
    text = data[1:]
    text = bytes(-len(text) % 4) + text
    chunks = [text[i : i + 4] for i in range(0, len(text), 4)]
    return [bytes([0x49, pid, n]) + c for n, c in enumerate(chunks, 1)]


def answer(
    ecu: Ecu, request: bytes, snap: EcuSnapshot, *, protocol: str, functional: bool
) -> list[bytes]:
    """The messages ``ecu`` sends back for ``request`` (empty when it stays silent)."""
    can = protocol in CAN_PROTOCOLS
    service, args = request[0], request[1:]
    if service == 0x01 and args:
        return _service_01(ecu, args, snap, can)
    if service == 0x02 and args and ecu is ENGINE:
        return _service_02(args, snap, can)
    if service in (0x03, 0x07, 0x0A) and not args:
        return _dtcs(service, ecu, snap, can)
    if service == 0x04 and not args:
        return [b"\x44"]
    if service == 0x09 and len(args) == 1 and ecu is ENGINE:
        return _service_09(args[0], snap, can)
    if can and not functional:
        return [bytes([0x7F, service, NRC_SERVICE_NOT_SUPPORTED])]
    return []
