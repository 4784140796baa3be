# SPDX-License-Identifier: MIT
"""One clock per flow: arrival checks, partitions, retention and the stored arrival times all
take ingest's time, and the accepted window is the stored retention policy's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from ingest_support import Device, make_batch

from db.policies import ReadingsPolicy, apply_policy
from db.timescale import has_timescaledb
from ingest import pipeline, process_messages
from ingest.message import Message
from ingest.store import ensure_partitions
from ingest.upkeep import enforce_retention
from telemetry import encode, topics


def now() -> datetime:
    return datetime.now(UTC)


def ago_ms(days: float, *, at: datetime | None = None) -> int:
    return int(((at or now()) - timedelta(days=days)).timestamp() * 1000)


def send(conn: psycopg.Connection, device: Device, *payloads: bytes, at: datetime | None = None):
    topic = topics.topic(device.device_id, "telemetry")
    return process_messages(conn, messages=[Message(topic, p, at or now()) for p in payloads])


def partitions(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'readings'::regclass AND c.relname ~ '^readings_[0-9]{4}_[0-9]{2}$'"
    ).fetchall()
    return {r[0] for r in rows}


def partition_of(conn: psycopg.Connection, at: datetime) -> str:
    """The monthly partition holding ``at`` (months in the session's time zone, as the
    partition functions count them)."""
    row = conn.execute("SELECT 'readings_' || to_char(%s::timestamptz, 'YYYY_MM')", (at,))
    return str(row.fetchone()[0])


@pytest.fixture
def policy(conn: psycopg.Connection) -> Iterator[None]:
    """Restores the default readings policy and partitions (the table outlives a test)."""
    yield
    apply_policy(conn, ReadingsPolicy())
    pipeline.prepare(conn)


@pytest.fixture
def plain(conn: psycopg.Connection) -> None:
    if has_timescaledb(conn):
        pytest.skip("TimescaleDB makes its chunks and runs its retention job itself")


def test_a_shorter_retention_refuses_what_it_would_drop(conn, device: Device, policy):
    apply_policy(conn, ReadingsPolicy(retention=timedelta(days=100)))
    outs = send(
        conn,
        device,
        encode(make_batch(device.device_id, 1, base_time_ms=ago_ms(200))),
        encode(make_batch(device.device_id, 2, base_time_ms=ago_ms(99))),
    )
    assert [o.status for o in outs] == ["dead_letter", "stored"]
    assert outs[0].reason.startswith("stale timestamp: "), outs[0].reason
    assert "kept 100 days" in outs[0].reason
    # Retention at the same instant drops none of what was accepted.
    if not has_timescaledb(conn):
        enforce_retention(conn, now=now())
        assert conn.execute(
            "SELECT count(*) FROM readings WHERE vehicle_id = %s", (device.vehicle_id,)
        ).fetchone() == (10,)


def test_a_longer_retention_accepts_what_it_keeps(conn, device: Device, policy):
    apply_policy(conn, ReadingsPolicy(retention=timedelta(days=600)))
    old = ago_ms(500)
    if not has_timescaledb(conn):
        ensure_partitions(conn=conn, now=now())
    outs = send(conn, device, encode(make_batch(device.device_id, 1, base_time_ms=old)))
    assert [o.status for o in outs] == ["stored"], outs[0].reason
    if not has_timescaledb(conn):
        # In its monthly partition, which the worker made for the policy's whole window.
        homes = conn.execute(
            "SELECT DISTINCT tableoid::regclass::text FROM readings WHERE vehicle_id = %s",
            (device.vehicle_id,),
        ).fetchall()
        assert homes == [(partition_of(conn, datetime.fromtimestamp(old / 1000, UTC)),)]


def test_the_window_edge_is_the_policy_s_retention_at_arrival(conn, device: Device, policy):
    apply_policy(conn, ReadingsPolicy(retention=timedelta(days=30)))
    # Arrival times are ingest's (here: a replay two days late); the edge moves with them.
    arrived = now() - timedelta(days=2)
    outs = send(
        conn,
        device,
        encode(make_batch(device.device_id, 1, base_time_ms=ago_ms(30, at=arrived) - 1000)),
        encode(make_batch(device.device_id, 2, base_time_ms=ago_ms(30, at=arrived) + 1000)),
        at=arrived,
    )
    assert [o.status for o in outs] == ["dead_letter", "stored"]


def test_partitions_are_made_around_ingest_s_time(conn, plain, policy):
    before = partitions(conn)
    ahead = now() + timedelta(days=800)  # a clock far from the database's
    made = ensure_partitions(conn=conn, now=ahead)
    try:
        assert made > 0
        assert partition_of(conn, ahead + timedelta(days=62)) in partitions(conn)
        assert partition_of(conn, ahead + timedelta(days=62)) not in before
    finally:
        for name in sorted(partitions(conn) - before):
            conn.execute(f'DROP TABLE "{name}"')


def test_retention_drops_by_ingest_s_time(conn, plain, policy):
    # 400 days kept (the default policy): partitions back to 500 days before today exist when
    # ingest's clock says 100 days ago.
    then = now() - timedelta(days=100)
    ensure_partitions(conn=conn, now=then)
    edge = partition_of(conn, now() - timedelta(days=500))
    assert edge in partitions(conn)
    # At ingest's "then" that month is still kept, whatever the database's clock says.
    enforce_retention(conn, now=then)
    assert edge in partitions(conn)
    # At ingest's now it is past retention.
    assert enforce_retention(conn, now=now()) >= 1
    assert edge not in partitions(conn)


def test_arrival_times_are_ingest_s_not_the_database_s(conn, device: Device):
    # A flush whose arrival time is not the database's now (a replayed backlog, or two
    # clocks apart): every row it writes carries that arrival time.
    arrived = now() - timedelta(hours=6)
    good = encode(make_batch(device.device_id, 1, base_time_ms=ago_ms(0.3, at=arrived)))
    outs = send(conn, device, good, b"\x00garbage", at=arrived)
    assert [o.status for o in outs] == ["stored", "dead_letter"]
    assert conn.execute(
        "SELECT received_at FROM batches WHERE device_id = %s", (device.device_id,)
    ).fetchall() == [(arrived,)]
    assert conn.execute("SELECT received_at FROM dead_letters").fetchall() == [(arrived,)]
