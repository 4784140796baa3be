# SPDX-License-Identifier: MIT
"""Quiet hours: a daily window, in the user's own time zone, when messages that can wait are
held until it ends.

The window is two local times; ``22:00``-``07:00`` crosses midnight. The end is computed as a
local wall-clock time and converted back to UTC by ``zoneinfo``, so a window spanning a
daylight-saving change still ends at 07:00 on the user's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


@dataclass(frozen=True)
class QuietHours:
    """A user's time zone and quiet window (no window: never quiet)."""

    time_zone: str = "UTC"
    start: time | None = None
    end: time | None = None

    def zone(self) -> ZoneInfo:
        """The user's zone (UTC when the stored name is unknown to this machine)."""
        try:
            return ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")


def valid_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone this machine knows."""
    return name in _zones()


_ZONES: frozenset[str] | None = None


def _zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones()) | {"UTC"}
    return _ZONES


def held_until(quiet: QuietHours, now: datetime) -> datetime | None:
    """When the quiet window around ``now`` ends (UTC), or None when ``now`` is not quiet."""
    if quiet.start is None or quiet.end is None or quiet.start == quiet.end:
        return None
    zone = quiet.zone()
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if quiet.start < quiet.end:
        inside = quiet.start <= clock < quiet.end
        end_day = local.date()
    else:  # crosses midnight: quiet from start to 24:00 and from 00:00 to end
        inside = clock >= quiet.start or clock < quiet.end
        end_day = local.date() + timedelta(days=1) if clock >= quiet.start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, quiet.end, tzinfo=zone).astimezone(UTC)
