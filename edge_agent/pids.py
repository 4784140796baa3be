# SPDX-License-Identifier: MIT
"""Service-01 requests (SAE J1979) and the parser for combined multi-PID replies.

python-OBD asks one PID per request; on CAN an ECU answers up to six PIDs in one reply, which
python-OBD cannot split. Parsing the combined reply needs each PID's data length and formula:
both come from the signal catalogue (``telemetry.signals``), the one table of PID facts.
"""

from __future__ import annotations

from telemetry.signals import by_pid

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
        signal = by_pid(pid)
        if signal is None or signal.length is None:
            break  # an unknown PID's length is unknown: the rest cannot be split safely
        chunk = data[i + 1 : i + 1 + signal.length]
        if len(chunk) < signal.length:
            break
        values[pid] = signal.decode(chunk)
        i += 1 + signal.length
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
