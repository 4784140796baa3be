# SPDX-License-Identifier: MIT
"""Service-01 PID formulas (SAE J1979) and the parser for combined multi-PID replies.

python-OBD asks one PID per request; on CAN an ECU answers up to six PIDs in one reply, which
python-OBD cannot split. Parsing the combined reply needs each PID's data length, so the
formulas live here, keyed by PID, for the signals the agent polls.
"""

from __future__ import annotations

from collections.abc import Callable

# PID -> (data bytes, formula from those bytes to the value in the signal's unit)
FORMULAS: dict[int, tuple[int, Callable[[bytes], float]]] = {
    0x04: (1, lambda b: b[0] * 100 / 255),  # engine load, %
    0x05: (1, lambda b: b[0] - 40.0),  # coolant temperature, °C
    0x0C: (2, lambda b: (b[0] * 256 + b[1]) / 4),  # engine speed, rpm
    0x0D: (1, lambda b: float(b[0])),  # vehicle speed, km/h
    0x11: (1, lambda b: b[0] * 100 / 255),  # throttle position, %
    0x2F: (1, lambda b: b[0] * 100 / 255),  # fuel level, %
    0x42: (2, lambda b: (b[0] * 256 + b[1]) / 1000),  # control module voltage, V
    0x46: (1, lambda b: b[0] - 40.0),  # ambient air temperature, °C
    0x5C: (1, lambda b: b[0] - 40.0),  # engine oil temperature, °C
    0xA6: (4, lambda b: int.from_bytes(b[:4], "big") / 10),  # odometer, km
}

# The most PIDs one service-01 request may carry on CAN (ISO 15765-4).
MAX_PIDS_PER_REQUEST = 6


def request(pids: list[int]) -> bytes:
    """The service-01 request for these PIDs, e.g. b"010C0D04"."""
    if not 1 <= len(pids) <= MAX_PIDS_PER_REQUEST:
        raise ValueError(f"a request carries 1 to {MAX_PIDS_PER_REQUEST} PIDs, not {len(pids)}")
    return b"01" + "".join(f"{p:02X}" for p in pids).encode()


def parse_reply(data: bytes) -> dict[int, float]:
    """Values by PID from one ECU's reply data (mode byte 0x41 first); stops at anything unknown."""
    values: dict[int, float] = {}
    if not data or data[0] != 0x41:
        return values
    i = 1
    while i < len(data):
        pid = data[i]
        spec = FORMULAS.get(pid)
        if spec is None:
            break  # an unknown PID's length is unknown: the rest cannot be split safely
        length, formula = spec
        chunk = data[i + 1 : i + 1 + length]
        if len(chunk) < length:
            break
        values[pid] = formula(chunk)
        i += 1 + length
    return values


def dtc_codes(body: bytes) -> list[str]:
    """Trouble codes from the 2-byte pairs of a service 03/07/0A reply body (00 00 is padding)."""
    codes = []
    for i in range(0, len(body) - 1, 2):
        a, b = body[i], body[i + 1]
        if a == 0 and b == 0:
            continue
        codes.append(f"{'PCBU'[a >> 6]}{(a >> 4) & 0x3}{a & 0xF:X}{b:02X}")
    return codes
