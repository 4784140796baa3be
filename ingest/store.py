# SPDX-License-Identifier: MIT
"""The handlers that write: de-duplicate, copy readings, update vehicle state, notify; plus the
dead-letter table and the catalogue and partition upkeep done at worker start."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from itertools import chain

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from db.policies import current_policy
from db.rows import scalar, scalars
from db.timescale import CHECK_SQL
from ingest import wide
from ingest.checks import time_span_ms
from ingest.columns import picked
from ingest.message import Item, Message, of_kind
from telemetry import SIGNALS, Batch, by_name
from telemetry.batch import Columns

log = logging.getLogger(__name__)

# The predictive evaluator LISTENs here; the payload is the vehicle id. PostgreSQL folds
# identical notifications within one transaction, so a flush sends each vehicle once.
NOTIFY_CHANNEL = "wl_vehicle_data"
# Dead letters keep enough of the payload to debug it without letting a flood of huge
# messages fill the disk; payload_size records what was cut.
MAX_DEAD_LETTER_BYTES = 64 * 1024
MAX_REASON_CHARS = 1000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_datetime(unix_ms: int) -> datetime:
    """Unix milliseconds → an aware UTC datetime, exactly (no float rounding)."""
    return _EPOCH + timedelta(milliseconds=unix_ms)


_CLAIM_SQL = (
    "INSERT INTO batches (device_id, epoch, seq, vehicle_id, received_at, first_time, "
    "last_time, n_samples) SELECT * FROM unnest(%s::text[], %s::bigint[], %s::bigint[], "
    "%s::bigint[], %s::timestamptz[], %s::timestamptz[], %s::timestamptz[], %s::int[]) "
    "ON CONFLICT (device_id, epoch, seq) DO NOTHING RETURNING device_id, epoch, seq"
)


def deduplicate(*, conn: psycopg.Connection, items: list[Item]) -> None:
    """Claim (device, epoch, seq) in ``batches``; a batch already there is a duplicate.

    The epoch is what lets a device count from 0 again (a new buffer, a re-flash, a restored
    backup) without its new batches being taken for ones already stored; legacy batches are
    epoch 0 and de-duplicate on (device, seq) as they always did.
    """
    items = of_kind(items, "telemetry")
    if not items:
        return
    # A fixed order keeps two workers that got the same redelivered batch from deadlocking.
    ordered = sorted(items, key=_key)
    rows = []
    for item in ordered:
        assert item.batch is not None and item.vehicle_id is not None
        first_ms, last_ms = _span(item)
        rows.append(
            (
                item.batch.device_id,
                item.batch.epoch,
                item.batch.seq,
                item.vehicle_id,
                item.message.received_at,
                to_datetime(first_ms),
                to_datetime(last_ms),
                item.batch.sample_count,
            )
        )
    with conn.cursor(row_factory=picked("device_id", "epoch", "seq")) as cur:
        # The claimed keys, as tuples shaped like ``_key`` (picked by name at C speed).
        fresh = set(
            cur.execute(_CLAIM_SQL, [list(column) for column in zip(*rows, strict=True)]).fetchall()
        )
    for item in items:
        key = _key(item)
        if key in fresh:
            fresh.discard(key)  # a second copy within the same flush is a duplicate too
        else:
            item.status = "duplicate"


def _key(item: Item) -> tuple[str, int, int]:
    assert item.batch is not None
    return item.batch.device_id, item.batch.epoch, item.batch.seq


def write_readings(*, conn: psycopg.Connection, items: list[Item]) -> None:
    """Copy every sample into ``readings`` with one binary COPY: one row per vehicle and
    timestamp, a column per signal (``ingest.wide``)."""
    items = of_kind(items, "telemetry")
    if not items:
        return
    with (
        conn.cursor() as cur,
        cur.copy(wide.COPY_SQL) as copy,
    ):
        copy.write(copy_data(items))


def copy_data(items: list[Item]) -> bytes:
    """The binary COPY stream (header to trailer) of every sample of the items' batches."""
    signals, times, values, vehicles, lengths = [], [], [], [], []
    for item in items:
        batch = item.batch
        assert batch is not None and item.vehicle_id is not None
        columns = batch.columns if batch.columns is not None else _columns_of(batch)
        signals.append(columns.signal_ids)
        times.append(columns.offsets_ms + batch.base_time_ms)
        values.append(columns.values)
        vehicles.append(item.vehicle_id)
        lengths.append(len(columns.values))
    rows = wide.pivot(
        np.repeat(np.array(vehicles, dtype=np.int64), lengths),
        np.concatenate(times).astype(np.int64, copy=False),
        np.concatenate(signals).astype(np.int64, copy=False),
        np.concatenate(values).astype(np.float64, copy=False),
    )
    return wide.copy_data(rows)


def _columns_of(batch: Batch) -> Columns:
    """The arrays of a batch whose decoder made none (JSON)."""
    ids = []
    for series in batch.series:
        signal = by_name(series.signal)
        assert signal is not None
        ids.append(signal.id)
    lengths = [len(series.values) for series in batch.series]
    return Columns(
        np.repeat(np.array(ids, dtype=np.int64), lengths),
        np.fromiter(chain.from_iterable(s.offsets_ms for s in batch.series), np.int64),
        np.fromiter(chain.from_iterable(s.values for s in batch.series), np.float64),
    )


def queue_rollups(*, conn: psycopg.Connection, items: list[Item]) -> None:
    """On plain PostgreSQL, queue each (vehicle, hour) written for the rollup refresher
    (``ingest.rollups``); TimescaleDB's continuous aggregates need no help."""
    items = of_kind(items, "telemetry")
    if not items or not _plain_postgres(conn):
        return
    pairs: set[tuple[int, int]] = set()
    for item in items:
        assert item.vehicle_id is not None
        first_ms, last_ms = _span(item)
        pairs.update(
            (item.vehicle_id, h) for h in range(first_ms // HOUR_MS, last_ms // HOUR_MS + 1)
        )
    ordered = sorted(pairs)
    conn.execute(
        "INSERT INTO rollup_queue (vehicle_id, hour) SELECT * FROM unnest(%s::bigint[], "
        "%s::timestamptz[])",
        ([v for v, _ in ordered], [to_datetime(h * HOUR_MS) for _, h in ordered]),
    )


_PLAIN: dict[tuple[str, int, str], bool] = {}
HOUR_MS = 3_600_000


def _plain_postgres(conn: psycopg.Connection) -> bool:
    """Whether the database lacks TimescaleDB (asked once per database; it never changes
    under a running worker)."""
    key = (conn.info.host, conn.info.port, conn.info.dbname)
    if key not in _PLAIN:
        _PLAIN[key] = conn.execute(CHECK_SQL).fetchone() is None
    return _PLAIN[key]


def update_state(*, conn: psycopg.Connection, items: list[Item]) -> None:
    """Upsert ``vehicle_state``: last seen, odometer and the latest value of each signal."""
    items = of_kind(items, "telemetry")
    if not items:
        return
    per_vehicle: dict[int, tuple[int, dict[str, tuple[int, float]]]] = {}
    for item in items:
        batch = item.batch
        assert batch is not None and item.vehicle_id is not None
        last_seen, latest = per_vehicle.get(item.vehicle_id, (0, {}))
        last_seen = max(last_seen, _span(item)[1])
        for series in batch.series:
            if series.values:
                at = batch.base_time_ms + series.offsets_ms[-1]
                if series.signal not in latest or at >= latest[series.signal][0]:
                    latest[series.signal] = (at, series.values[-1])
        per_vehicle[item.vehicle_id] = (last_seen, latest)
    rows = []
    for vehicle_id in sorted(per_vehicle):  # fixed lock order across concurrent workers
        last_seen, latest = per_vehicle[vehicle_id]
        odometer = latest.get("odometer_km")
        rows.append(
            (
                vehicle_id,
                to_datetime(last_seen),
                odometer[1] if odometer else None,
                Jsonb({name: value for name, (_, value) in latest.items()}),
            )
        )
    # A batch older than the stored state (a device emptying its disk buffer) only fills in
    # signals the state lacks; it never overwrites newer values.
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO vehicle_state AS s (vehicle_id, last_seen, odometer_km, latest) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (vehicle_id) DO UPDATE SET "
            "last_seen = GREATEST(s.last_seen, EXCLUDED.last_seen), "
            "odometer_km = CASE WHEN EXCLUDED.last_seen >= s.last_seen "
            "  THEN COALESCE(EXCLUDED.odometer_km, s.odometer_km) "
            "  ELSE COALESCE(s.odometer_km, EXCLUDED.odometer_km) END, "
            "latest = CASE WHEN EXCLUDED.last_seen >= s.last_seen "
            "  THEN s.latest || EXCLUDED.latest ELSE EXCLUDED.latest || s.latest END, "
            "updated_at = now()",
            rows,
        )


def _span(item: Item) -> tuple[int, int]:
    span = time_span_ms(item)
    assert span is not None  # batches always have one
    return span


def notify(*, conn: psycopg.Connection, items: list[Item]) -> None:
    """Tell listeners (the predictive evaluator) which vehicles have new data or trouble
    codes, at commit. A status alone is not news to the models."""
    vehicles = sorted(
        {item.vehicle_id for item in items if item.vehicle_id is not None and item.kind != "status"}
    )
    if not vehicles:
        return
    conn.execute(
        "SELECT pg_notify(%s, v::text) FROM unnest(%s::bigint[]) AS v", (NOTIFY_CHANNEL, vehicles)
    )


def write_dead_letters(*, conn: psycopg.Connection, rejected: list[tuple[Message, str]]) -> None:
    """Keep rejected messages with their reason, payload capped at MAX_DEAD_LETTER_BYTES."""
    if not rejected:
        return
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO dead_letters (received_at, topic, reason, payload, payload_size) "
            "VALUES (%s, %s, %s, %s, %s)",
            [
                (
                    m.received_at,
                    m.topic,
                    reason[:MAX_REASON_CHARS],
                    bytes(m.payload[:MAX_DEAD_LETTER_BYTES]),
                    len(m.payload),
                )
                for m, reason in rejected
            ],
        )
    # One line per flush, not per message: a flood of garbage must not become a flood of logs.
    message, reason = rejected[0]
    log.warning(
        "%d dead letter(s); first from %s (%d bytes): %s",
        len(rejected),
        message.topic,
        len(message.payload),
        reason,
    )


class SchemaBehind(RuntimeError):
    """The database lacks a column for a catalogue signal: a migration has not been run."""


def check_columns(conn: psycopg.Connection) -> None:
    """Raise ``SchemaBehind`` unless ``readings`` has a column for every catalogue signal."""
    have = set(
        scalars(
            conn,
            "SELECT attname FROM pg_attribute WHERE attrelid = 'readings'::regclass "
            "AND attnum > 0 AND NOT attisdropped",
        )
    )
    missing = [name for name in wide.COLUMNS if name not in have]
    if missing:
        raise SchemaBehind(
            f"readings has no column for {', '.join(missing)}; run `wrenchlight db migrate`"
        )


def sync_signals(*, conn: psycopg.Connection) -> None:
    """Check ``readings`` has a column per catalogue signal and upsert the ``signals`` table."""
    check_columns(conn)
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO signals (signal_id, name, unit) VALUES (%s, %s, %s) "
            "ON CONFLICT (signal_id) DO UPDATE SET name = EXCLUDED.name, unit = EXCLUDED.unit",
            [(s.id, s.name, s.unit) for s in SIGNALS],
        )


def ensure_partitions(*, conn: psycopg.Connection, now: datetime) -> int:
    """On plain PostgreSQL, create the monthly readings partitions ingest will need around
    ``now`` (ingest's clock, the one arrival times and retention use); 0 on TimescaleDB,
    which makes its chunks itself."""
    exists = scalar(
        conn,
        "SELECT to_regprocedure('wl_ensure_partitions(timestamptz, timestamptz)') IS NOT NULL",
    )
    if not exists:
        return 0
    # The accepted window (the policy's retention back, a few minutes ahead) plus three
    # months of lead, so a worker that runs for weeks never writes into the default partition.
    retention = current_policy(conn).retention
    with conn.transaction():
        made = scalar(
            conn,
            "SELECT wl_ensure_partitions(%(now)s - %(retention)s::interval, "
            "%(now)s + INTERVAL '3 months')",
            {"now": now, "retention": retention},
        )
    return int(made) if made is not None else 0
