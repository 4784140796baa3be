# SPDX-License-Identifier: MIT
"""Device status on ``wl/v1/{device}/status``: the retained birth message and last will.

``state`` is ``online`` or ``offline``; the agent adds its firmware, the signals the car
supports and buffer figures. Unknown fields are kept (a newer agent may send more), but the
whole message is capped, so a status cannot smuggle megabytes into the device table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from telemetry.batch import MAX_BASE_TIME_MS, MIN_BASE_TIME_MS
from telemetry.errors import DecodeError

STATES = ("online", "offline")
MAX_STATUS_BYTES = 16 * 1024


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """One status message: the state, when the device sent it, and everything else it said."""

    state: str
    time_ms: int | None = None
    firmware: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def decode_status(payload: bytes) -> DeviceStatus:
    """Parse a status message or raise DecodeError (nothing else)."""
    if len(payload) > MAX_STATUS_BYTES:
        raise DecodeError(f"status is {len(payload)} bytes, more than {MAX_STATUS_BYTES}")
    try:
        doc: Any = json.loads(payload)
    except (ValueError, TypeError, RecursionError) as exc:
        raise DecodeError(f"status is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise DecodeError("status must be a JSON object")
    state = doc.get("state")
    if state not in STATES:
        raise DecodeError(f"status state {state!r} is not one of {', '.join(STATES)}")
    time_ms = doc.get("time_ms")
    if time_ms is not None and (
        not isinstance(time_ms, int)
        or isinstance(time_ms, bool)
        or not MIN_BASE_TIME_MS <= time_ms <= MAX_BASE_TIME_MS
    ):
        raise DecodeError(f"status time_ms {time_ms!r} is not between 2000 and 2100")
    firmware = doc.get("firmware")
    if firmware is not None and (not isinstance(firmware, str) or len(firmware) > 64):
        raise DecodeError("status firmware must be a string of at most 64 characters")
    extra = {k: v for k, v in doc.items() if k not in ("state", "time_ms", "firmware")}
    return DeviceStatus(state=state, time_ms=time_ms, firmware=firmware, extra=extra)
