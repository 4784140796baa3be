# SPDX-License-Identifier: MIT
"""The handlers that turn messages into events: trouble codes appearing and clearing, trips
(ignition on to off), and device status.

Each works set-wise on a flush: a few statements whatever the number of messages. Two workers
never interleave on one vehicle: ``update_state`` (telemetry) and the ``vehicle_dtcs`` row
lock (trouble codes) serialise transactions per vehicle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg.types.json import Jsonb

from db.rows import records
from ingest.checks import time_span_ms
from ingest.message import Item, of_kind
from ingest.store import to_datetime

# An agent samples at least every few seconds while the ignition is on and stays silent while
# it is off, so silence this long ends a trip. Short stops (a fuel station, a drive-through)
# stay inside the trip.
TRIP_GAP = timedelta(minutes=3)
_GAP_MS = int(TRIP_GAP / timedelta(milliseconds=1))
DTC_KINDS = ("stored", "pending", "permanent")


@dataclass(frozen=True, slots=True)
class _StoredCodes:
    """A vehicle's current trouble codes as ``vehicle_dtcs`` holds them."""

    vehicle_id: int
    snapshot_time: datetime | None
    stored: list[str]
    pending: list[str]
    permanent: list[str]


def trouble_codes(*, conn: psycopg.Connection, items: list[Item]) -> None:
    """Diff each snapshot against the vehicle's current codes into 'appeared'/'cleared' events.

    A snapshot not newer than the last one applied (a redelivery, or one overtaken by a newer
    snapshot) changes nothing and counts as a duplicate.
    """
    items = of_kind(items, "dtc")
    if not items:
        return
    vehicles = sorted({item.vehicle_id for item in items if item.vehicle_id is not None})
    conn.execute(
        "INSERT INTO vehicle_dtcs (vehicle_id) SELECT unnest(%s::bigint[]) "
        "ON CONFLICT (vehicle_id) DO NOTHING",
        (vehicles,),
    )
    rows = records(
        conn,
        _StoredCodes,
        "SELECT vehicle_id, snapshot_time, stored, pending, permanent FROM vehicle_dtcs "
        "WHERE vehicle_id = ANY(%s) ORDER BY vehicle_id FOR UPDATE",
        (vehicles,),
    )
    state: dict[int, tuple[datetime | None, dict[str, set[str]]]] = {
        int(r.vehicle_id): (r.snapshot_time, {kind: set(getattr(r, kind)) for kind in DTC_KINDS})
        for r in rows
    }
    events = []
    changed: set[int] = set()
    for item in sorted(items, key=lambda i: i.dtc.time_ms):  # type: ignore[union-attr]
        snap, vehicle_id = item.dtc, item.vehicle_id
        assert snap is not None and vehicle_id is not None
        at = to_datetime(snap.time_ms)
        last_time, codes = state[vehicle_id]
        if last_time is not None and at <= last_time:
            item.status = "duplicate"
            continue
        new = {kind: set(getattr(snap, kind)) for kind in DTC_KINDS}
        for kind in DTC_KINDS:
            events += [
                (vehicle_id, item.device_id, code, kind, "appeared", at)
                for code in sorted(new[kind] - codes[kind])
            ]
            events += [
                (vehicle_id, item.device_id, code, kind, "cleared", at)
                for code in sorted(codes[kind] - new[kind])
            ]
        state[vehicle_id] = (at, new)
        changed.add(vehicle_id)
    if events:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO dtc_events (vehicle_id, device_id, code, kind, event, time) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                events,
            )
    if changed:
        with conn.cursor() as cur:
            cur.executemany(
                "UPDATE vehicle_dtcs SET snapshot_time = %s, stored = %s, pending = %s, "
                "permanent = %s, updated_at = now() WHERE vehicle_id = %s",
                [
                    (state[v][0], *(sorted(state[v][1][kind]) for kind in DTC_KINDS), v)
                    for v in sorted(changed)
                ],
            )


@dataclass
class _Span:
    """A stretch of driving: one batch, several merged batches, or a stored trip."""

    start_ms: int
    end_ms: int
    odo_min: float | None
    odo_max: float | None
    max_speed: float | None
    samples: int
    batches: int

    def absorb(self, other: _Span) -> None:
        self.start_ms = min(self.start_ms, other.start_ms)
        self.end_ms = max(self.end_ms, other.end_ms)
        self.odo_min = _least(self.odo_min, other.odo_min)
        self.odo_max = _greatest(self.odo_max, other.odo_max)
        self.max_speed = _greatest(self.max_speed, other.max_speed)
        self.samples += other.samples
        self.batches += other.batches

    def near(self, other: _Span) -> bool:
        return other.start_ms - _GAP_MS <= self.end_ms and self.start_ms <= other.end_ms + _GAP_MS


def _least(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


def _greatest(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def _batch_span(item: Item) -> _Span:
    batch, times = item.batch, time_span_ms(item)
    assert batch is not None and times is not None
    span = _Span(times[0], times[1], None, None, None, 0, 1)
    for series in batch.series:
        if not series.values:
            continue
        span.samples += len(series.values)
        if series.signal == "odometer_km":
            span.odo_min, span.odo_max = min(series.values), max(series.values)
        elif series.signal == "speed_kmh":
            span.max_speed = max(series.values)
    return span


@dataclass(frozen=True, slots=True)
class _StoredTrip:
    """A row of ``trips``, as read back to extend or merge."""

    trip_id: int
    vehicle_id: int
    started_at: datetime
    ended_at: datetime
    start_odometer_km: float | None
    end_odometer_km: float | None
    max_speed_kmh: float | None
    samples: int
    batches: int

    def span(self) -> _Span:
        return _Span(
            _ms(self.started_at),
            _ms(self.ended_at),
            self.start_odometer_km,
            self.end_odometer_km,
            self.max_speed_kmh,
            int(self.samples),
            int(self.batches),
        )


def trips(*, conn: psycopg.Connection, items: list[Item]) -> None:
    """Extend, start or join trips with the stored batches: data closer than TRIP_GAP to a
    trip belongs to it, and a late batch that bridges two trips merges them."""
    items = of_kind(items, "telemetry")
    if not items:
        return
    per_vehicle: dict[int, list[_Span]] = {}
    for item in items:
        assert item.vehicle_id is not None
        per_vehicle.setdefault(item.vehicle_id, []).append(_batch_span(item))
    merged = {v: _merge(spans) for v, spans in per_vehicle.items()}
    windows = [
        (v, s.start_ms - _GAP_MS, s.end_ms + _GAP_MS) for v, ss in merged.items() for s in ss
    ]
    stored = records(
        conn,
        _StoredTrip,
        "SELECT t.trip_id, t.vehicle_id, t.started_at, t.ended_at, t.start_odometer_km, "
        "t.end_odometer_km, t.max_speed_kmh, t.samples, t.batches FROM trips t "
        "JOIN unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) AS w(v, lo, hi) "
        "ON t.vehicle_id = w.v AND t.ended_at >= w.lo AND t.started_at <= w.hi",
        [
            [w[0] for w in windows],
            [to_datetime(w[1]) for w in windows],
            [to_datetime(w[2]) for w in windows],
        ],
    )
    existing: dict[int, list[tuple[int, _Span]]] = {}
    for trip in {t.trip_id: t for t in stored}.values():  # a trip may match two windows
        existing.setdefault(int(trip.vehicle_id), []).append((int(trip.trip_id), trip.span()))
    inserts, updates, deletes = [], [], []
    for vehicle_id, spans in merged.items():
        trips_of = sorted(existing.get(vehicle_id, []), key=lambda t: t[1].start_ms)
        for span in spans:
            touching = [t for t in trips_of if t[1].near(span)]
            if not touching:
                inserts.append((vehicle_id, span))
                continue
            keep_id, keep = touching[0]
            keep.absorb(span)
            for trip_id, other in touching[1:]:
                keep.absorb(other)
                deletes.append(trip_id)
                trips_of.remove((trip_id, other))
            updates.append((keep_id, keep))
    if deletes:
        conn.execute("DELETE FROM trips WHERE trip_id = ANY(%s)", (deletes,))
    with conn.cursor() as cur:
        if updates:
            latest = {trip_id: span for trip_id, span in updates}  # a trip updated twice
            cur.executemany(
                "UPDATE trips SET started_at = %s, ended_at = %s, start_odometer_km = %s, "
                "end_odometer_km = %s, max_speed_kmh = %s, samples = %s, batches = %s "
                "WHERE trip_id = %s",
                [(*_columns(span), trip_id) for trip_id, span in latest.items()],
            )
        if inserts:
            cur.executemany(
                "INSERT INTO trips (vehicle_id, started_at, ended_at, start_odometer_km, "
                "end_odometer_km, max_speed_kmh, samples, batches) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                [(vehicle_id, *_columns(span)) for vehicle_id, span in inserts],
            )


def _merge(spans: list[_Span]) -> list[_Span]:
    out: list[_Span] = []
    for span in sorted(spans, key=lambda s: s.start_ms):
        if out and out[-1].near(span):
            out[-1].absorb(span)
        else:
            out.append(span)
    return out


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _columns(span: _Span) -> tuple[object, ...]:
    return (
        to_datetime(span.start_ms),
        to_datetime(span.end_ms),
        span.odo_min,
        span.odo_max,
        span.max_speed,
        span.samples,
        span.batches,
    )


def device_status(*, conn: psycopg.Connection, items: list[Item]) -> None:
    """Keep each device's latest status (online, firmware, supported signals, buffer)."""
    items = of_kind(items, "status")
    if not items:
        return
    # Ordered by arrival: a last will is composed when the device connects, so its own time
    # says nothing about when it was sent.
    latest: dict[str, Item] = {}
    for item in sorted(items, key=lambda i: i.message.received_at):
        assert item.device_id is not None
        latest[item.device_id] = item
    with conn.cursor() as cur:
        cur.executemany(
            "UPDATE devices SET online = %s, status = %s, status_at = %s "
            "WHERE device_id = %s AND (status_at IS NULL OR status_at <= %s)",
            [
                (
                    item.device_status.state == "online",  # type: ignore[union-attr]
                    Jsonb(_status_doc(item)),
                    item.message.received_at,
                    device_id,
                    item.message.received_at,
                )
                for device_id, item in sorted(latest.items())
            ],
        )


def _status_doc(item: Item) -> dict[str, object]:
    status = item.device_status
    assert status is not None
    return {
        "state": status.state,
        "time_ms": status.time_ms,
        "firmware": status.firmware,
        **status.extra,
    }
