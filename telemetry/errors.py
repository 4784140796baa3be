# SPDX-License-Identifier: MIT
"""Errors of the wire contract.

TelemetryError
└── DecodeError          bytes that are not a valid batch (the only error decode raises)
    └── InvalidBatch     well-formed but inconsistent content (bad id, unknown signal, ...)
"""


class TelemetryError(Exception):
    """Base of every error raised by the telemetry package."""


class DecodeError(TelemetryError):
    """A payload is not a valid v1 batch; the message says why."""


class InvalidBatch(DecodeError):
    """A batch's content breaks the schema."""
