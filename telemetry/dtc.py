# SPDX-License-Identifier: MIT
"""Trouble-code snapshots on ``wl/v1/{device}/dtc``: what the car reports, sent when it changes.

A snapshot is small and rare, so it travels as JSON; decoding is total like the batch codec:
a valid snapshot or ``DecodeError``.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from telemetry.batch import DEVICE_ID_RE, MAX_BASE_TIME_MS, MIN_BASE_TIME_MS, VIN_RE
from telemetry.errors import DecodeError

# SAE J2012: system letter, then a digit 0-3, then three hex digits.
DTC_RE = re.compile(r"^[PCBU][0-3][0-9A-F]{3}$")
MAX_CODES = 64


@dataclass(frozen=True, slots=True)
class DtcSnapshot:
    """Stored (service 03), pending (07) and permanent (0A) codes at one moment."""

    device_id: str
    vin: str
    time_ms: int
    stored: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()
    permanent: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.device_id, str) or not DEVICE_ID_RE.fullmatch(self.device_id):
            raise DecodeError(f"device_id {self.device_id!r} is not 1-64 of [A-Za-z0-9_.-]")
        if not isinstance(self.vin, str) or not VIN_RE.fullmatch(self.vin):
            raise DecodeError(f"vin {self.vin!r} is not a 17-character VIN or empty")
        if (
            not isinstance(self.time_ms, int)
            or isinstance(self.time_ms, bool)
            or not (MIN_BASE_TIME_MS <= self.time_ms <= MAX_BASE_TIME_MS)
        ):
            raise DecodeError(f"time_ms {self.time_ms!r} is not between 2000 and 2100")
        for kind in ("stored", "pending", "permanent"):
            codes = getattr(self, kind)
            if not isinstance(codes, tuple) or len(codes) > MAX_CODES:
                raise DecodeError(f"{kind} must be a list of at most {MAX_CODES} codes")
            for code in codes:
                if not isinstance(code, str) or not DTC_RE.fullmatch(code):
                    raise DecodeError(f"{kind} code {code!r} is not like P0301")

    @property
    def mil_on(self) -> bool:
        """The malfunction indicator lamp is on while any code is stored."""
        return bool(self.stored)


def encode_dtc(snapshot: DtcSnapshot) -> bytes:
    """The snapshot as compact JSON."""
    return json.dumps({"v": 1, **asdict(snapshot)}, separators=(",", ":")).encode()


def decode_dtc(payload: bytes) -> DtcSnapshot:
    """Parse a snapshot or raise DecodeError (nothing else)."""
    try:
        doc: Any = json.loads(payload)
    except (ValueError, TypeError, RecursionError) as exc:
        raise DecodeError(f"trouble-code snapshot is not JSON: {exc}") from exc
    if not isinstance(doc, dict) or type(doc.get("v")) is not int or doc["v"] != 1:
        raise DecodeError("trouble-code snapshot must be a JSON object with 'v': 1")
    try:
        return DtcSnapshot(
            device_id=doc["device_id"],
            vin=doc["vin"],
            time_ms=doc["time_ms"],
            **{k: _codes(doc, k) for k in ("stored", "pending", "permanent")},
        )
    except KeyError as exc:
        raise DecodeError(f"trouble-code snapshot lacks {exc}") from exc
    except TypeError as exc:
        raise DecodeError(f"trouble-code snapshot is malformed: {exc}") from exc


def _codes(doc: dict[str, Any], kind: str) -> tuple[str, ...]:
    codes = doc.get(kind, [])
    if not isinstance(codes, list):
        raise DecodeError(f"{kind} must be a list of codes, not {type(codes).__name__}")
    return tuple(codes)
