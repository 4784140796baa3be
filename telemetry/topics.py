# SPDX-License-Identifier: MIT
"""MQTT topic names: one tree per device, ``wl/v1/{device_id}/{kind}``."""

from __future__ import annotations

from typing import Literal

from telemetry.errors import DecodeError

PREFIX = "wl/v1"
Kind = Literal["telemetry", "dtc", "status", "config", "alerts"]
KINDS: tuple[str, ...] = ("telemetry", "dtc", "status", "config", "alerts")
# Ingest workers share the uplink topics; MQTT 5 shared subscriptions split them between workers.
INGEST_GROUP = "ingest"


def topic(device_id: str, kind: Kind) -> str:
    """The topic of one device's stream of one kind."""
    return f"{PREFIX}/{device_id}/{kind}"


def shared(kind: Kind, group: str = INGEST_GROUP) -> str:
    """The shared-subscription filter for every device's topic of one kind."""
    return f"$share/{group}/{PREFIX}/+/{kind}"


def parse(name: str) -> tuple[str, str]:
    """Split a topic into (device_id, kind) or raise DecodeError."""
    parts = name.split("/")
    if (
        len(parts) != 4
        or f"{parts[0]}/{parts[1]}" != PREFIX
        or parts[3] not in KINDS
        or not parts[2]
    ):
        raise DecodeError(f"topic {name!r} is not {PREFIX}/<device>/<kind>")
    return parts[2], parts[3]
