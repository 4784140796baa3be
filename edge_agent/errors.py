# SPDX-License-Identifier: MIT
"""Errors of the edge agent.

EdgeError
├── AdapterError     the ELM327 adapter cannot be opened or does not reach the car
└── BufferError_     the on-disk buffer cannot be written
"""


class EdgeError(Exception):
    """Base of every error raised by the edge agent."""


class AdapterError(EdgeError):
    """The adapter is absent, silent, or cannot talk to the vehicle."""


class BufferFull(EdgeError):
    """The on-disk buffer refused a batch (only under the 'reject' policy)."""
