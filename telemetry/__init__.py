# SPDX-License-Identifier: MIT
"""The wire contract between device and cloud: topics, the batch schema and its codecs."""

from telemetry.batch import Batch, Series
from telemetry.codec import decode, encode
from telemetry.errors import DecodeError, InvalidBatch, TelemetryError
from telemetry.signals import SIGNALS, Signal, by_id, by_name, by_pid

__all__ = [
    "SIGNALS",
    "Batch",
    "DecodeError",
    "InvalidBatch",
    "Series",
    "Signal",
    "TelemetryError",
    "by_id",
    "by_name",
    "by_pid",
    "decode",
    "encode",
]
