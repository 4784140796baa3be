# SPDX-License-Identifier: MIT
"""SAE J1979 encodings: vehicle state to OBD-II response data (services 01, 02, 03/07/0A, 09).

Pure functions on an ``EcuSnapshot``; how the bytes are split into messages and
frames on each bus is the job of ``ecus`` and ``framing``.
"""

from __future__ import annotations

from firmware_sim.vehicle import EcuSnapshot, VehicleState
from telemetry.signals import SIGNALS, Signal


def _monitor_status(snap: EcuSnapshot) -> bytes:
    # MIL on when any code is stored; B=0x07: misfire, fuel and component monitors
    # supported and complete (spark ignition), no continuous test failing.
    count = min(len(snap.dtcs), 0x7F)
    return bytes([(0x80 if snap.dtcs else 0) | count, 0x07, 0x00, 0x00])


# PID -> its signal in the catalogue, whose ``encode`` gives the data bytes (without the 41/PID
# prefix) from the state's attribute of the same name.
STATE_PIDS: dict[int, Signal] = {s.pid: s for s in SIGNALS if s.pid is not None}
SUPPORT_PIDS_01 = (0x00, 0x20, 0x40, 0x60, 0x80, 0xA0, 0xC0)
# A battery-electric car has no engine speed, engine temperatures or fuel level.
EV_PIDS = frozenset({0x01, 0x0D, 0x42, 0x46, 0xA6})
# Service 02 stores the engine's picture at the moment the code was set.
FREEZE_FRAME_PIDS = frozenset({0x02, 0x04, 0x05, 0x0C, 0x0D, 0x11})
# Service 09: 02 VIN, 04 calibration ID.
SERVICE_09_SUPPORTED = frozenset({0x02, 0x04})
# The transmission controller answers a handful of PIDs itself (vehicle speed).
TRANSMISSION_PIDS = frozenset({0x0D})


def state_data(pid: int, state: VehicleState) -> bytes:
    """A state's value of one STATE_PIDS PID, encoded as J1979 data bytes."""
    signal = STATE_PIDS[pid]
    return signal.encode(getattr(state, signal.name))


def supported_01(snap: EcuSnapshot) -> set[int]:
    """Service 01 PIDs the engine ECU lists as supported (by vehicle kind and model)."""
    pids = set(EV_PIDS) if snap.kind == "electric" else {0x01, *STATE_PIDS}
    if not snap.supports_odometer_pid:
        pids.discard(0xA6)
    return pids


def support_bitmap(base: int, supported: set[int] | frozenset[int]) -> bytes:
    """The 4-byte 'PIDs supported [base+1 .. base+0x20]' bitmap, bit 0 = next range exists."""
    bits = 0
    for pid in supported:
        if base < pid <= base + 0x20:
            bits |= 1 << (0x20 - (pid - base))
    if any(pid > base + 0x20 for pid in supported):
        bits |= 1
    return bits.to_bytes(4, "big")


def _bitmap_or_none(pid: int, supported: set[int] | frozenset[int]) -> bytes | None:
    # Support ranges are answered only when reachable through the chain.
    if pid == 0x00 or any(p > pid for p in supported):
        return support_bitmap(pid, supported)
    return None


def service_01(pid: int, snap: EcuSnapshot) -> bytes | None:
    """Data bytes for one engine service 01 PID, or None when the ECU stays silent."""
    supported = supported_01(snap)
    if pid in SUPPORT_PIDS_01:
        return _bitmap_or_none(pid, supported)
    if pid not in supported or pid in snap.dropped_pids:
        return None  # a dropped-out sensor stays listed but does not answer
    if pid == 0x01:
        return _monitor_status(snap)
    return state_data(pid, snap.state)


def transmission_01(pid: int, snap: EcuSnapshot) -> bytes | None:
    """Data bytes the transmission ECU gives for a service 01 PID, or None."""
    if pid in SUPPORT_PIDS_01:
        return _bitmap_or_none(pid, TRANSMISSION_PIDS)
    if pid in TRANSMISSION_PIDS and pid not in snap.dropped_pids:
        return state_data(pid, snap.state)
    return None


def service_02(pid: int, snap: EcuSnapshot) -> bytes | None:
    """Freeze-frame data bytes (after 42/PID/frame) for frame 00, or None."""
    frame = snap.freeze_frame
    if frame is None or snap.freeze_frame_dtc is None:
        return None
    if pid == 0x00:
        return support_bitmap(0x00, FREEZE_FRAME_PIDS)
    if pid == 0x02:
        return encode_dtc(snap.freeze_frame_dtc)
    if pid in FREEZE_FRAME_PIDS:
        return state_data(pid, frame)
    return None


def service_09(pid: int, snap: EcuSnapshot) -> bytes | None:
    """Data bytes (after 49/PID) for service 09 on CAN: support map, VIN, calibration ID."""
    if pid == 0x00:
        return support_bitmap(0x00, SERVICE_09_SUPPORTED)
    if pid == 0x02:
        # One data item (the 01 count byte) followed by the 17 ASCII characters.
        return b"\x01" + snap.vin.encode("ascii", "replace")[:17]
    if pid == 0x04:
        # One 16-byte calibration ID, NUL-padded (J1979).
        return b"\x01" + snap.calibration_id.encode("ascii", "replace")[:16].ljust(16, b"\0")
    return None


def encode_dtc(code: str) -> bytes:
    """'P0301' -> b'\\x03\\x01' (two bits system letter, then four hex digits)."""
    letter = "PCBU".index(code[0].upper())
    d1 = int(code[1], 16) & 0x3
    rest = int(code[2:5], 16)
    return bytes([(letter << 6) | (d1 << 4) | (rest >> 8), rest & 0xFF])


def encoded_dtcs(codes: tuple[str, ...]) -> list[bytes]:
    """Two bytes per valid code; a malformed code in the model is skipped, not sent as garbage."""
    out = []
    for code in codes[:255]:
        try:
            out.append(encode_dtc(code))
        except (ValueError, IndexError):
            continue
    return out


def dtc_codes(service: int, snap: EcuSnapshot) -> tuple[str, ...]:
    """The codes service 03 (stored), 07 (pending) or 0A (permanent) reports."""
    return {0x03: snap.dtcs, 0x07: snap.pending_dtcs, 0x0A: snap.permanent_dtcs}[service]


def service_03(snap: EcuSnapshot) -> bytes:
    """Stored trouble codes after the 43 byte: count, then two bytes per code (CAN form)."""
    codes = encoded_dtcs(snap.dtcs)
    return bytes([len(codes)]) + b"".join(codes)
