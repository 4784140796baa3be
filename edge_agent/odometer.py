# SPDX-License-Identifier: MIT
"""Odometer for cars without PID 0xA6: distance integrated from the speed signal.

The integral needs a starting point (the dashboard reading at installation, sent as remote
configuration) and must survive restarts, so it is kept in metres in the outbox's database.
"""

from __future__ import annotations

# Between two speed samples further apart than this (adapter stalled, car off) the distance is
# not integrated: guessing across a gap would invent kilometres.
MAX_GAP_S = 5.0


class OdometerEstimate:
    """Trapezoidal integration of speed samples into kilometres."""

    def __init__(self, start_km: float | None = None) -> None:
        self.km = start_km
        self._last: tuple[float, float] | None = None  # (time s, speed km/h)

    def reset(self, km: float) -> None:
        """Set the reading (from the dashboard or configuration)."""
        self.km = km

    def advance(self, t_s: float, speed_kmh: float) -> float | None:
        """Add one speed sample; returns the estimate (None until a starting point is known)."""
        last = self._last
        self._last = (t_s, speed_kmh)
        if self.km is None or last is None:
            return self.km
        dt_s = t_s - last[0]
        if 0 < dt_s <= MAX_GAP_S:
            self.km += (last[1] + speed_kmh) / 2 * dt_s / 3600
        return self.km
