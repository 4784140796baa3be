# SPDX-License-Identifier: MIT
"""The pipeline on real PostgreSQL: stored rows, duplicates, dead letters, vehicle state."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime

import psycopg
import pytest
from ingest_support import Device, make_batch, register

from ingest import pipeline, process_message, process_messages
from ingest.message import Message
from telemetry import SIGNALS, by_name, encode, topics


def now() -> datetime:
    return datetime.now(UTC)


def submit(conn: psycopg.Connection, device_id: str, payload: bytes) -> pipeline.Outcome:
    return process_message(
        conn, topic=topics.topic(device_id, "telemetry"), payload=payload, received_at=now()
    )


def stored_readings(conn: psycopg.Connection, vehicle_id: int) -> list[tuple[int, int, float]]:
    rows = conn.execute(
        "SELECT (extract(epoch FROM time) * 1000)::bigint, signal_id, value FROM readings_long "
        "WHERE vehicle_id = %s ORDER BY 2, 1",
        (vehicle_id,),
    ).fetchall()
    return [(int(t), int(s), float(v)) for t, s, v in rows]


def expected_readings(batch) -> list[tuple[int, int, float]]:
    return sorted(
        ((t, by_name(name).id, v) for t, name, v in batch.samples()), key=lambda r: (r[1], r[0])
    )


def count(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.mark.parametrize("fmt", ["binary", "json"])
def test_valid_batch_is_stored_exactly(conn, device: Device, fmt):
    batch = make_batch(device.device_id, 1, vin=device.vin if fmt == "json" else "", n=12)
    out = submit(conn, device.device_id, encode(batch, fmt))
    assert out.status == "stored", out.reason
    assert (out.vehicle_id, out.device_id, out.seq, out.samples) == (
        device.vehicle_id,
        device.device_id,
        1,
        48,
    )
    assert stored_readings(conn, device.vehicle_id) == expected_readings(batch)
    row = conn.execute(
        "SELECT vehicle_id, n_samples FROM batches WHERE device_id = %s AND seq = 1",
        (device.device_id,),
    ).fetchone()
    assert row == (device.vehicle_id, 48)
    assert count(conn, "dead_letters") == 0


def test_same_device_and_seq_is_stored_once(conn, device: Device):
    payload = encode(make_batch(device.device_id, 7, n=5))
    assert submit(conn, device.device_id, payload).status == "stored"
    again = submit(conn, device.device_id, payload)
    assert (again.status, again.samples) == ("duplicate", 0)
    # Two copies inside one flush, next to a copy already stored.
    fresh = encode(make_batch(device.device_id, 8, n=5))
    msgs = [
        Message(topics.topic(device.device_id, "telemetry"), p, now())
        for p in (fresh, fresh, payload)
    ]
    assert [o.status for o in process_messages(conn, messages=msgs)] == [
        "stored",
        "duplicate",
        "duplicate",
    ]
    assert count(conn, "readings_long") == 2 * 20
    assert count(conn, "batches") == 2


def _json(device: Device, **overrides) -> bytes:
    doc = json.loads(encode(make_batch(device.device_id, 1, n=3), "json"))
    doc.update(overrides)
    return json.dumps(doc).encode()


REJECTIONS = {
    "unknown device": lambda d: encode(make_batch(d.device_id + "-unregistered", 1)),
    "undecodable payload": lambda d: os.urandom(200),
    "truncated": lambda d: encode(make_batch(d.device_id, 1), compress=False)[:-5],
    "out of range": lambda d: _json(d, signals={"speed_kmh": {"t": [0, 1000], "v": [50, 300]}}),
    "future timestamp": lambda d: encode(
        make_batch(d.device_id, 1, base_time_ms=int(time.time() * 1000) + 10 * 60_000)
    ),
    "stale timestamp": lambda d: encode(
        make_batch(d.device_id, 1, base_time_ms=int(time.time() * 1000) - 401 * 86_400_000)
    ),
    "vin mismatch": lambda d: encode(make_batch(d.device_id, 1, vin="1HGCM82633A004352")),
    "device mismatch": lambda d: encode(make_batch(d.device_id + "x", 1)),
}


@pytest.mark.parametrize("case", REJECTIONS)
def test_rejected_message_lands_in_dead_letters(conn, device: Device, case):
    payload = REJECTIONS[case](device)
    suffix = "-unregistered" if case == "unknown device" else ""
    topic = topics.topic(device.device_id + suffix, "telemetry")
    received = now()
    out = process_message(conn, topic=topic, payload=payload, received_at=received)
    assert out.status == "dead_letter"
    expected_reason = "undecodable payload" if case == "truncated" else case
    assert out.reason and out.reason.startswith(expected_reason), out.reason
    rows = conn.execute(
        "SELECT topic, reason, payload, payload_size, received_at FROM dead_letters"
    ).fetchall()
    assert rows == [(topic, out.reason, payload, len(payload), received)]
    assert count(conn, "readings_long") == 0
    assert count(conn, "batches") == 0
    assert count(conn, "vehicle_state") == 0


def test_bad_topic_and_huge_payload_are_dead_lettered_capped(conn):
    payload = os.urandom(100_000)
    out = process_message(conn, topic="wl/v1/x/config", payload=payload, received_at=now())
    assert out.status == "dead_letter" and out.reason.startswith("bad topic")
    stored, size = conn.execute("SELECT payload, payload_size FROM dead_letters").fetchone()
    assert (stored, size) == (payload[:65536], 100_000)


def test_vehicle_state_keeps_the_latest_values(conn, device: Device):
    t0 = int(time.time() * 1000) - 600_000
    first = make_batch(device.device_id, 1, base_time_ms=t0, n=5, odometer_km=1000.0)
    second = make_batch(device.device_id, 2, base_time_ms=t0 + 60_000, n=3, odometer_km=1010.0)
    # An old batch arriving late (from a device's disk buffer) carrying one extra signal.
    late = make_batch(device.device_id, 3, base_time_ms=t0 - 60_000, n=2, odometer_km=990.0)
    late = type(late)(
        late.device_id,
        late.seq,
        late.vin,
        late.base_time_ms,
        (*late.series, type(late.series[0])("oil_temp_c", (0,), (91.0,))),
    )
    for batch in (first, second, late):
        assert submit(conn, device.device_id, encode(batch)).status == "stored"
    last_seen, odometer, latest = conn.execute(
        "SELECT last_seen, odometer_km, latest FROM vehicle_state WHERE vehicle_id = %s",
        (device.vehicle_id,),
    ).fetchone()
    assert last_seen == datetime.fromtimestamp((t0 + 60_000 + 2000) / 1000, UTC)
    assert odometer == pytest.approx(1010.2)
    assert latest == {
        "speed_kmh": 2.0,
        "engine_rpm": 820.5,
        "coolant_temp_c": 82.0,
        "odometer_km": pytest.approx(1010.2),
        "oil_temp_c": 91.0,
    }


def test_a_bad_message_does_not_poison_its_flush(conn, device: Device, unique_id):
    other = register(conn, f"{unique_id}-other")
    msgs = [
        Message(
            topics.topic(device.device_id, "telemetry"),
            encode(make_batch(device.device_id, 1, n=4)),
            now(),
        ),
        Message(topics.topic(device.device_id, "telemetry"), b"\x00garbage", now()),
        Message(
            topics.topic(other.device_id, "telemetry"),
            encode(make_batch(other.device_id, 1, n=6)),
            now(),
        ),
    ]
    outs = process_messages(conn, messages=msgs)
    assert [o.status for o in outs] == ["stored", "dead_letter", "stored"]
    assert [o.samples for o in outs] == [16, 0, 24]
    assert count(conn, "readings_long") == 40
    assert count(conn, "dead_letters") == 1


def test_database_refusal_isolates_the_message(conn, device: Device, unique_id, monkeypatch):
    poison = register(conn, f"{unique_id}-poison")

    def refuse(*, conn, items):
        if any(i.device_id == poison.device_id for i in items):
            raise psycopg.errors.NumericValueOutOfRange("value out of range")

    monkeypatch.setattr(pipeline, "HANDLERS", (*pipeline.HANDLERS, refuse))
    msgs = [
        Message(
            topics.topic(d.device_id, "telemetry"), encode(make_batch(d.device_id, 1, n=2)), now()
        )
        for d in (device, poison)
    ]
    outs = process_messages(conn, messages=msgs)
    assert [o.status for o in outs] == ["stored", "dead_letter"]
    assert "NumericValueOutOfRange" in outs[1].reason
    assert count(conn, "readings_long") == 8
    assert count(conn, "batches") == 1


def test_new_data_is_announced_to_listeners(conn, db_url, device: Device):
    with psycopg.connect(db_url, autocommit=True) as listener:
        listener.execute("LISTEN wl_vehicle_data")
        submit(conn, device.device_id, encode(make_batch(device.device_id, 1)))
        got = [n.payload for n in listener.notifies(timeout=2, stop_after=1)]
    assert got == [str(device.vehicle_id)]


def test_prepare_fills_the_signal_catalogue(conn):
    pipeline.prepare(conn)
    pipeline.prepare(conn)  # idempotent
    rows = conn.execute("SELECT signal_id, name, unit FROM signals ORDER BY 1").fetchall()
    assert rows == sorted((s.id, s.name, s.unit) for s in SIGNALS)
