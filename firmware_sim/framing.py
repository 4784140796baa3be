# SPDX-License-Identifier: MIT
"""Frames on the wire and the lines the chip prints for them under its H/S/CAF settings.

CAN: ISO-TP segments of 8 bytes, printed with a 3-digit (11-bit) or 4-byte (29-bit)
identifier. ISO 9141-2: one frame per message with the 3-byte header ``48 6B <source>``
and a trailing checksum, both shown only with headers on.
"""

from __future__ import annotations

from dataclasses import dataclass

from firmware_sim.ecus import CAN_11BIT_PROTOCOLS, CAN_PROTOCOLS, Ecu

# ISO 15765-4 ECUs pad every frame to 8 bytes; the fill value varies by maker.
CAN_PAD = 0x00
CAN_11BIT_RESPONSE_BASE = 0x7E8
# 29-bit physical response: priority 18, DA, target = tester F1, source = the ECU.
CAN_29BIT_RESPONSE_PREFIX = (0x18, 0xDA, 0xF1)
# ISO 9141-2 response header: priority/type 48, target 6B (tester functional address).
ISO9141_RESPONSE_PREFIX = (0x48, 0x6B)


@dataclass(frozen=True)
class Frame:
    """One frame as the chip received it: header digits and the data field."""

    header: tuple[str, ...]
    data: bytes
    ecu: Ecu


@dataclass(frozen=True)
class Format:
    """The chip's output settings that change how frames are printed."""

    headers: bool = False
    spaces: bool = True
    caf: bool = True


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


def _header(protocol: str, ecu: Ecu) -> tuple[str, ...]:
    if protocol in CAN_11BIT_PROTOCOLS:
        return (f"{CAN_11BIT_RESPONSE_BASE + ecu.can11_offset:03X}",)
    if protocol in CAN_PROTOCOLS:
        return tuple(f"{b:02X}" for b in (*CAN_29BIT_RESPONSE_PREFIX, ecu.address))
    return tuple(f"{b:02X}" for b in (*ISO9141_RESPONSE_PREFIX, ecu.address))


def frames_for(protocol: str, ecu: Ecu, messages: list[bytes]) -> list[Frame]:
    """The frames an ECU puts on the bus for its reply messages."""
    header = _header(protocol, ecu)
    if protocol in CAN_PROTOCOLS:
        return [Frame(header, f, ecu) for m in messages for f in isotp_frames(m)]
    return [Frame(header, m, ecu) for m in messages]


def _hex(data: bytes, sep: str) -> str:
    return sep.join(f"{x:02X}" for x in data)


def _legacy_line(frame: Frame, fmt: Format, sep: str) -> str:
    if not fmt.headers:
        return _hex(frame.data, sep)
    head = bytes(int(h, 16) for h in frame.header)
    checksum = sum(head + frame.data) & 0xFF  # ISO 9141-2: 8-bit sum of all bytes
    return _hex(head + frame.data + bytes([checksum]), sep)


def _can_message_lines(frames: list[Frame], fmt: Format, sep: str) -> list[str]:
    # Headers off, auto-formatting on: PCI bytes and padding are stripped; a
    # multi-frame message prints its total length, then indexed lines.
    first = frames[0].data
    if first[0] >> 4 == 0:
        return [_hex(first[1 : 1 + first[0]], sep)]
    length = ((first[0] & 0x0F) << 8) | first[1]
    lines = [f"{length:03X}", f"0:{sep}{_hex(first[2:], sep)}"]
    lines += [f"{f.data[0] & 0x0F:X}:{sep}{_hex(f.data[1:], sep)}" for f in frames[1:]]
    return lines


def format_lines(protocol: str, frames: list[Frame], fmt: Format) -> list[str]:
    """The lines the chip prints for ``frames`` (grouped by ECU, in bus order)."""
    sep = " " if fmt.spaces else ""
    if protocol not in CAN_PROTOCOLS:
        return [_legacy_line(f, fmt, sep) for f in frames]
    if fmt.headers or not fmt.caf:
        # Raw frames: the full 8 data bytes, PCI and padding included.
        return [
            sep.join((*f.header, _hex(f.data, sep))) if fmt.headers else _hex(f.data, sep)
            for f in frames
        ]
    lines: list[str] = []
    message: list[Frame] = []
    for f in frames:
        if message and (f.ecu != message[0].ecu or f.data[0] >> 4 in (0, 1)):
            lines += _can_message_lines(message, fmt, sep)
            message = []
        message.append(f)
    if message:
        lines += _can_message_lines(message, fmt, sep)
    return lines
