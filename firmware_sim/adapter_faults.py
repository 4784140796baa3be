# SPDX-License-Identifier: MIT
"""Faults of the adapter itself (not the car): flaky replies, bus error bursts, dropouts.

Seeded, so a test or a load run sees the same sequence of faults every time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FaultConfig:
    """Probabilities are per OBD request; all zero means a perfect adapter."""

    no_data_probability: float = 0.0
    can_error_probability: float = 0.0  # chance that a burst of bus errors starts
    can_error_burst: int = 3  # requests answered with a bus error once a burst starts
    disconnect_probability: float = 0.0
    disconnect_s: float = 5.0  # how long the adapter stays away after a dropout
    seed: int = 0


class AdapterFaults:
    """Decides, request by request, whether the adapter misbehaves."""

    def __init__(
        self, config: FaultConfig | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config or FaultConfig()
        self._clock = clock
        self._rng = np.random.default_rng(self.config.seed)
        self._lock = threading.Lock()
        self._burst_left = 0
        self._offline_until = 0.0

    @property
    def offline(self) -> bool:
        """True while the adapter is 'unplugged' and answers nothing."""
        return self._clock() < self._offline_until

    def disconnect(self, *, duration_s: float) -> None:
        """Drop off the line now for ``duration_s`` seconds."""
        with self._lock:
            self._offline_until = self._clock() + duration_s

    def on_request(self) -> str | None:
        """The fault hitting this OBD request: 'NO DATA', 'BUS ERROR', 'DISCONNECT' or None."""
        c = self.config
        with self._lock:
            if self._burst_left > 0:
                self._burst_left -= 1
                return "BUS ERROR"
            # One draw per kind keeps each fault's sequence independent of the others' settings.
            draws = self._rng.random(3)
            if draws[0] < c.disconnect_probability:
                self._offline_until = self._clock() + c.disconnect_s
                return "DISCONNECT"
            if draws[1] < c.can_error_probability:
                self._burst_left = max(c.can_error_burst - 1, 0)
                return "BUS ERROR"
            if draws[2] < c.no_data_probability:
                return "NO DATA"
            return None
