# SPDX-License-Identifier: MIT
"""What flows through the pipeline: a received message, its working state, and the outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from telemetry import Batch, DecodeError
from telemetry.dtc import DtcSnapshot
from telemetry.status import DeviceStatus

Status = Literal["pending", "stored", "duplicate", "dead_letter"]
# What a device sends: telemetry batches, trouble-code snapshots, and its status.
Kind = Literal["telemetry", "dtc", "status"]
KINDS: tuple[Kind, ...] = ("telemetry", "dtc", "status")
# A payload decoded by its kind, or why it could not be.
Decoded = Batch | DtcSnapshot | DeviceStatus | DecodeError


@dataclass(frozen=True, slots=True)
class Message:
    """One MQTT message as received: topic, raw payload and the time it arrived."""

    topic: str
    payload: bytes
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one message."""

    status: Literal["stored", "duplicate", "dead_letter"]
    kind: Kind | None = None
    vehicle_id: int | None = None
    device_id: str | None = None
    seq: int | None = None
    samples: int = 0  # readings written; 0 unless stored
    reason: str | None = None  # why it was dead-lettered
    last_time_ms: int | None = None  # newest sample of a stored batch, unix ms


@dataclass(slots=True)
class Item:
    """A message on its way through the handlers; each handler fills in or rejects it."""

    message: Message
    device_id: str | None = None  # from the topic
    kind: Kind | None = None  # from the topic
    batch: Batch | None = None  # kind telemetry
    dtc: DtcSnapshot | None = None  # kind dtc
    device_status: DeviceStatus | None = None  # kind status
    vehicle_id: int | None = None
    vin: str | None = None
    status: Status = "pending"
    reason: str | None = None
    last_time_ms: int | None = None  # set by the time check

    def reject(self, reason: str) -> None:
        """Mark the message for the dead-letter table; later handlers skip it."""
        self.status = "dead_letter"
        self.reason = reason

    def outcome(self) -> Outcome:
        """The final outcome; pending items that passed every handler were stored."""
        batch = self.batch
        status = "stored" if self.status == "pending" else self.status
        return Outcome(
            status=status,
            kind=self.kind,
            vehicle_id=self.vehicle_id,
            device_id=batch.device_id if batch else self.device_id,
            seq=batch.seq if batch else None,
            samples=batch.sample_count if batch and status == "stored" else 0,
            reason=self.reason,
            last_time_ms=self.last_time_ms,
        )


def of_kind(items: list[Item], kind: Kind) -> list[Item]:
    """The items of one kind; handlers for one kind of message skip the others."""
    return [item for item in items if item.kind == kind]
