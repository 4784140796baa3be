# SPDX-License-Identifier: MIT
"""The handlers that decide whether a message may be stored: topic, payload, device, VIN,
value ranges and timestamps. Each rejects with a reason a person can act on; the reason starts
with a fixed class ('undecodable payload: ...') that metrics count by."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import cast

import psycopg

from db.policies import current_policy
from db.rows import records
from ingest.message import KINDS, Decoded, Item, Kind, of_kind
from telemetry import Batch, DecodeError, by_name, decode, topics
from telemetry.dtc import DtcSnapshot, decode_dtc
from telemetry.status import decode_status

# A device clock a little ahead of ours is normal (no NTP yet, skew); more is a broken clock.
MAX_FUTURE = timedelta(minutes=5)
# Every readings policy keeps at least a day (ReadingsPolicy refuses less), so samples younger
# than this are kept without asking the database for the policy.
ALWAYS_KEPT = timedelta(days=1)
MS = timedelta(milliseconds=1)


def parse_topic(*, conn: psycopg.Connection, items: list[Item]) -> None:
    """Take the device id and the kind of message from the topic."""
    for item in items:
        try:
            device_id, kind = topics.parse(item.message.topic)
        except DecodeError as exc:
            item.reject(f"bad topic: {exc}")
            continue
        if kind not in KINDS:
            item.reject(f"bad topic: devices do not send {kind!r} messages")
            continue
        item.device_id = device_id
        item.kind = cast(Kind, kind)


def decode_payload(*, conn: psycopg.Connection, items: list[Item]) -> None:
    """Decode the payload by kind; a batch or snapshot must name the device of its topic."""
    for item in items:
        assert item.kind is not None
        decoded = _decode(item.kind, item.message.payload)
        if isinstance(decoded, DecodeError):
            item.reject(f"undecodable payload: {decoded}")
            continue
        if isinstance(decoded, Batch):
            item.batch = decoded
            named = decoded.device_id
        elif isinstance(decoded, DtcSnapshot):
            item.dtc = decoded
            named = decoded.device_id
        else:
            item.device_status = decoded
            named = item.device_id or ""
        # The broker's access list ties a device to its own topics, so the topic is the
        # authenticated identity; a payload naming another device is spoofed or misrouted.
        if named != item.device_id:
            item.reject(f"device mismatch: payload says {named!r}, topic says {item.device_id!r}")


def _decode(kind: Kind, payload: bytes) -> Decoded:
    try:
        if kind == "telemetry":
            return decode(payload)
        if kind == "dtc":
            return decode_dtc(payload)
        return decode_status(payload)
    except DecodeError as exc:
        return exc


@dataclass(frozen=True, slots=True)
class _Registered:
    """A device and the vehicle it is registered to."""

    device_id: str
    vehicle_id: int
    vin: str


def match_device(*, conn: psycopg.Connection, items: list[Item]) -> None:
    """Find each device's vehicle in one query; unknown devices are rejected."""
    device_ids = sorted({item.device_id for item in items if item.device_id})
    rows = records(
        conn,
        _Registered,
        "SELECT d.device_id, v.vehicle_id, v.vin FROM devices d JOIN vehicles v USING (vehicle_id) "
        "WHERE d.device_id = ANY(%s)",
        (device_ids,),
    )
    known = {row.device_id: (int(row.vehicle_id), str(row.vin)) for row in rows}
    for item in items:
        found = known.get(item.device_id or "")
        if found is None:
            item.reject(f"unknown device: {item.device_id!r}")
        else:
            item.vehicle_id, item.vin = found


def check_vin(*, conn: psycopg.Connection, items: list[Item]) -> None:
    """A batch or snapshot that names a VIN must name its vehicle's; empty means 'not read'."""
    for item in items:
        named = item.batch.vin if item.batch else item.dtc.vin if item.dtc else ""
        if named and named != item.vin:
            item.reject(
                f"vin mismatch: payload says {named}, device {item.device_id!r} "
                f"belongs to {item.vin}"
            )


def check_values(*, conn: psycopg.Connection, items: list[Item]) -> None:
    """Every value must lie within its signal's physical range."""
    for item in of_kind(items, "telemetry"):
        assert item.batch is not None
        for series in item.batch.series:
            signal = by_name(series.signal)
            assert signal is not None  # Batch validated the name
            # min()/max() run in C; the per-value search below runs only for a rejected batch.
            if series.values and (
                min(series.values) < signal.min or max(series.values) > signal.max
            ):
                bad = next(v for v in series.values if not signal.min <= v <= signal.max)
                item.reject(
                    f"out of range: {series.signal} = {bad} {signal.unit} is outside "
                    f"{signal.min}..{signal.max}"
                )
                break


def check_times(*, conn: psycopg.Connection, items: list[Item]) -> None:
    """Samples and snapshots may be at most MAX_FUTURE ahead of arrival and no older than the
    readings policy's retention at arrival. A status carries the time it was composed (a last
    will is composed at connect, possibly long ago), so only its future is checked."""
    retention_ms: int | None = None  # read once per flush, and only if something is old
    for item in items:
        span = time_span_ms(item)
        if span is None:
            continue
        first_ms, last_ms = span
        received_ms = int(item.message.received_at.timestamp() * 1000)
        if last_ms > received_ms + MAX_FUTURE // MS:
            ahead = timedelta(milliseconds=last_ms - received_ms)
            item.reject(f"future timestamp: {ahead} ahead of arrival")
            continue
        if item.kind != "status" and received_ms - first_ms > ALWAYS_KEPT // MS:
            # Retention (ingest.upkeep, or TimescaleDB's job) drops what is older than the
            # policy's retention; by the same rule here, an accepted sample is never in a
            # partition retention would drop at its arrival, and one the policy keeps is
            # never refused.
            if retention_ms is None:
                retention_ms = current_policy(conn).retention // MS
            if first_ms < received_ms - retention_ms:
                behind = timedelta(milliseconds=received_ms - first_ms)
                item.reject(
                    f"stale timestamp: {behind} older than arrival; readings are kept "
                    f"{timedelta(milliseconds=retention_ms)}"
                )
                continue
        item.last_time_ms = last_ms


def time_span_ms(item: Item) -> tuple[int, int] | None:
    """(first, last) time the message speaks of, in unix ms; None for a status without time.
    A batch without samples spans its base time."""
    if item.dtc is not None:
        return item.dtc.time_ms, item.dtc.time_ms
    if item.device_status is not None:
        t = item.device_status.time_ms
        return None if t is None else (t, t)
    batch = item.batch
    assert batch is not None
    # Offsets rise within a series (the Batch checked it), so the ends are the extremes.
    starts = [s.offsets_ms[0] for s in batch.series if s.offsets_ms]
    ends = [s.offsets_ms[-1] for s in batch.series if s.offsets_ms]
    if not starts:
        return batch.base_time_ms, batch.base_time_ms
    return batch.base_time_ms + min(starts), batch.base_time_ms + max(ends)
