# SPDX-License-Identifier: MIT
"""SAE J1979 encodings: vehicle state to OBD-II response payloads (services 01, 03, 09).

Pure functions on an ``EcuSnapshot``; framing onto CAN is the dongle's job.
"""

from __future__ import annotations

from collections.abc import Callable

from firmware_sim.vehicle import EcuSnapshot


def _byte(x: float) -> int:
    return max(0, min(255, round(x)))


def _word(x: float) -> bytes:
    return max(0, min(0xFFFF, round(x))).to_bytes(2, "big")


def _pct(x: float) -> bytes:
    return bytes([_byte(x * 255.0 / 100.0)])


def _temp(x: float) -> bytes:
    return bytes([_byte(x + 40.0)])


def _monitor_status(snap: EcuSnapshot) -> bytes:
    # MIL on when any code is stored; B=0x07: misfire, fuel and component monitors
    # supported and complete (spark ignition), no continuous test failing.
    count = min(len(snap.dtcs), 0x7F)
    return bytes([(0x80 if snap.dtcs else 0) | count, 0x07, 0x00, 0x00])


# PID -> encoder of its data bytes (without the 41/PID prefix).
SERVICE_01: dict[int, Callable[[EcuSnapshot], bytes]] = {
    0x01: _monitor_status,
    0x04: lambda s: _pct(s.state.engine_load_pct),
    0x05: lambda s: _temp(s.state.coolant_temp_c),
    0x0C: lambda s: _word(s.state.engine_rpm * 4.0),
    0x0D: lambda s: bytes([_byte(s.state.speed_kmh)]),
    0x11: lambda s: _pct(s.state.throttle_pct),
    0x2F: lambda s: _pct(s.state.fuel_level_pct),
    0x42: lambda s: _word(s.state.module_voltage_v * 1000.0),
    0x46: lambda s: _temp(s.state.ambient_temp_c),
    0x5C: lambda s: _temp(s.state.oil_temp_c),
    # 4 bytes, 0.1 km per bit (J1979 2014+, PID A6).
    0xA6: lambda s: max(0, round(s.state.odometer_km * 10.0)).to_bytes(4, "big"),
}
SUPPORT_PIDS_01 = (0x00, 0x20, 0x40, 0x60, 0x80, 0xA0, 0xC0)
SERVICE_09_SUPPORTED = (0x02,)


def supported_01(snap: EcuSnapshot) -> set[int]:
    """Service 01 PIDs this vehicle answers (odometer only when the model has it)."""
    pids = set(SERVICE_01)
    if not snap.supports_odometer_pid:
        pids.discard(0xA6)
    return pids


def support_bitmap(base: int, supported: set[int]) -> bytes:
    """The 4-byte 'PIDs supported [base+1 .. base+0x20]' bitmap, bit 0 = next range exists."""
    bits = 0
    for pid in supported:
        if base < pid <= base + 0x20:
            bits |= 1 << (0x20 - (pid - base))
    if any(pid > base + 0x20 for pid in supported):
        bits |= 1
    return bits.to_bytes(4, "big")


def service_01(pid: int, snap: EcuSnapshot) -> bytes | None:
    """Data bytes for one service 01 PID, or None when the ECU stays silent."""
    supported = supported_01(snap)
    if pid in SUPPORT_PIDS_01:
        # Support ranges are answered only when reachable through the chain.
        if pid == 0x00 or any(p > pid for p in supported):
            return support_bitmap(pid, supported)
        return None
    if pid in supported:
        return SERVICE_01[pid](snap)
    return None


def service_09(pid: int, snap: EcuSnapshot) -> bytes | None:
    """Data bytes (after 49/PID) for service 09: support map and VIN."""
    if pid == 0x00:
        return support_bitmap(0x00, set(SERVICE_09_SUPPORTED))
    if pid == 0x02:
        # One data item (the 01 count byte) followed by the 17 ASCII characters.
        return b"\x01" + snap.vin.encode("ascii", "replace")[:17]
    return None


def encode_dtc(code: str) -> bytes:
    """'P0301' -> b'\\x03\\x01' (two bits system letter, then four hex digits)."""
    letter = "PCBU".index(code[0].upper())
    d1 = int(code[1], 16) & 0x3
    rest = int(code[2:5], 16)
    return bytes([(letter << 6) | (d1 << 4) | (rest >> 8), rest & 0xFF])


def service_03(snap: EcuSnapshot) -> bytes:
    """Stored trouble codes after the 43 byte: count, then two bytes per code (CAN form)."""
    codes = []
    for code in snap.dtcs[:255]:
        try:
            codes.append(encode_dtc(code))
        except (ValueError, IndexError):
            continue  # a malformed code in the model is skipped, not sent as garbage
    return bytes([len(codes)]) + b"".join(codes)
