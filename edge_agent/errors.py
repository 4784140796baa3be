# SPDX-License-Identifier: MIT
"""Errors of the edge agent.

EdgeError
├── AdapterError     the ELM327 adapter cannot be opened or does not reach the car
├── BufferFull       the on-disk buffer refused a batch
└── ConfigError      a remote configuration was rejected (edge_agent.config)
"""


class EdgeError(Exception):
    """Base of every error raised by the edge agent."""


class AdapterError(EdgeError):
    """The adapter is absent, silent, or cannot talk to the vehicle."""

    def __init__(self, message: str, *, battery_v: float | None = None) -> None:
        super().__init__(message)
        # Battery voltage the adapter measured while the car did not answer, if it could.
        self.battery_v = battery_v


class BufferFull(EdgeError):
    """The on-disk buffer refused a batch (only under the 'reject' policy)."""
