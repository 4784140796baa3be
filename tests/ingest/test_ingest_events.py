# SPDX-License-Identifier: MIT
"""Events the pipeline derives on real PostgreSQL: trouble codes, trips, device status, and
the plain-PostgreSQL rollups and retention."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from ingest_support import Device, make_batch
from psycopg import sql

from db.policies import ReadingsPolicy, apply_policy, current_policy
from db.timescale import has_timescaledb
from ingest import pipeline, process_messages
from ingest.events import TRIP_GAP
from ingest.message import Message
from ingest.upkeep import enforce_retention, refresh_rollups
from telemetry import SIGNALS, encode, topics
from telemetry.dtc import DtcSnapshot, encode_dtc

MINUTE_MS = 60_000


def now() -> datetime:
    return datetime.now(UTC)


def send(conn: psycopg.Connection, device: Device, kind: str, payloads: list[bytes]):
    return process_messages(
        conn,
        messages=[Message(topics.topic(device.device_id, kind), p, now()) for p in payloads],
    )


def snapshot(device: Device, time_ms: int, **codes: tuple[str, ...]) -> bytes:
    return encode_dtc(DtcSnapshot(device.device_id, device.vin, time_ms, **codes))


def dtc_events(conn, device: Device) -> list[tuple[str, str, str]]:
    rows = conn.execute(
        "SELECT code, kind, event FROM dtc_events WHERE vehicle_id = %s ORDER BY time, id",
        (device.vehicle_id,),
    ).fetchall()
    return [tuple(r) for r in rows]


def test_trouble_codes_appear_and_clear_once(conn, device: Device):
    t0 = int(time.time() * 1000) - 10 * MINUTE_MS
    first = snapshot(device, t0, stored=("P0301",), pending=("P0171",))
    second = snapshot(device, t0 + MINUTE_MS, stored=("P0301", "P0171"))
    third = snapshot(device, t0 + 2 * MINUTE_MS)
    outs = send(conn, device, "dtc", [first, second])
    assert [o.status for o in outs] == ["stored", "stored"]
    # Redelivered and out-of-date snapshots change nothing.
    outs = send(conn, device, "dtc", [second, first])
    assert [o.status for o in outs] == ["duplicate", "duplicate"]
    send(conn, device, "dtc", [third])
    assert dtc_events(conn, device) == [
        ("P0301", "stored", "appeared"),
        ("P0171", "pending", "appeared"),
        ("P0171", "stored", "appeared"),
        ("P0171", "pending", "cleared"),
        ("P0171", "stored", "cleared"),
        ("P0301", "stored", "cleared"),
    ]
    state = conn.execute(
        "SELECT stored, pending, permanent FROM vehicle_dtcs WHERE vehicle_id = %s",
        (device.vehicle_id,),
    ).fetchone()
    assert state == ([], [], [])


def test_bad_trouble_code_snapshot_is_dead_lettered(conn, device: Device):
    good = json.loads(snapshot(device, int(time.time() * 1000), stored=("P0301",)))
    bad_code = {**good, "stored": ["X0301"]}
    other_vin = {**good, "vin": "1HGCM82633A004352"}
    outs = send(
        conn, device, "dtc", [json.dumps(d).encode() for d in (bad_code, other_vin)] + [b"{"]
    )
    reasons = [o.reason or "" for o in outs]
    assert [o.status for o in outs] == ["dead_letter"] * 3
    assert reasons[0].startswith("undecodable payload") and "X0301" in reasons[0]
    assert reasons[1].startswith("vin mismatch")
    assert dtc_events(conn, device) == []


def trips_of(conn, device: Device) -> list[tuple]:
    return conn.execute(
        "SELECT started_at, ended_at, start_odometer_km, end_odometer_km, samples, batches "
        "FROM trips WHERE vehicle_id = %s ORDER BY started_at",
        (device.vehicle_id,),
    ).fetchall()


def test_trips_follow_the_gaps_in_the_data(conn, device: Device):
    t0 = int(time.time() * 1000) - 3 * 3600_000
    gap_ms = int(TRIP_GAP.total_seconds() * 1000)
    # Trip A: three back-to-back 10 s batches; trip B starts after a long silence.
    a = [
        make_batch(device.device_id, s, base_time_ms=t0 + s * 10_000, odometer_km=100 + s)
        for s in range(3)
    ]
    b_start = t0 + 30_000 + 2 * gap_ms
    b = [make_batch(device.device_id, 10, base_time_ms=b_start, odometer_km=150)]
    outs = send(conn, device, "telemetry", [encode(x) for x in (a[0], a[2], b[0])])
    assert all(o.status == "stored" for o in outs)
    # a[0] and a[2] are 11 s apart: one trip already. Then the middle batch arrives late.
    send(conn, device, "telemetry", [encode(a[1])])
    send(conn, device, "telemetry", [encode(a[1])])  # a redelivery counts nothing
    got = trips_of(conn, device)
    assert len(got) == 2
    (a_start, a_end, a_odo0, a_odo1, a_samples, a_batches), b_row = got
    assert a_start == datetime.fromtimestamp(t0 / 1000, UTC)
    assert a_end == datetime.fromtimestamp((t0 + 20_000 + 9_000) / 1000, UTC)
    assert (a_odo0, a_samples, a_batches) == (100.0, 3 * 40, 3)
    assert a_odo1 == pytest.approx(102.9)
    assert b_row[4:] == (40, 1)
    # A batch filling the silence joins the two trips into one.
    bridge_ms = t0 + 28_000 + gap_ms  # within the gap of both trips
    bridge = make_batch(device.device_id, 5, base_time_ms=bridge_ms, n=10, odometer_km=120)
    send(conn, device, "telemetry", [encode(bridge)])
    [(start, end, odo0, odo1, samples, batches)] = trips_of(conn, device)
    assert (start, samples, batches) == (a_start, 5 * 40, 5)
    assert end == datetime.fromtimestamp((b_start + 9_000) / 1000, UTC)
    assert (odo0, odo1) == (100.0, pytest.approx(150.9))


def test_status_keeps_the_latest_by_arrival(conn, device: Device):
    def status(state: str, at: datetime) -> Message:
        payload = json.dumps({"state": state, "firmware": "wl-1.2", "signals": ["speed_kmh"]})
        return Message(topics.topic(device.device_id, "status"), payload.encode(), at)

    t = now()
    outs = process_messages(
        conn, messages=[status("online", t), status("offline", t - timedelta(seconds=5))]
    )
    assert [o.status for o in outs] == ["stored", "stored"]
    online, doc = conn.execute(
        "SELECT online, status FROM devices WHERE device_id = %s", (device.device_id,)
    ).fetchone()
    assert online is True and doc["firmware"] == "wl-1.2" and doc["signals"] == ["speed_kmh"]
    process_messages(conn, messages=[status("offline", t + timedelta(seconds=1))])
    assert conn.execute(
        "SELECT online FROM devices WHERE device_id = %s", (device.device_id,)
    ).fetchone() == (False,)
    bad = process_messages(
        conn,
        messages=[Message(topics.topic(device.device_id, "status"), b'{"state": "asleep"}', t)],
    )
    assert bad[0].status == "dead_letter" and "asleep" in (bad[0].reason or "")


def test_rollups_match_the_readings(conn, device: Device):
    if has_timescaledb(conn):
        pytest.skip("TimescaleDB keeps continuous aggregates itself")
    pipeline.prepare(conn)
    t0 = (int(time.time() * 1000) // 3600_000 - 2) * 3600_000 + 59 * MINUTE_MS
    # Two batches spanning an hour boundary; one arrives later and refreshes its hour again.
    first = make_batch(device.device_id, 1, base_time_ms=t0, n=90)
    second = make_batch(device.device_id, 2, base_time_ms=t0 + 90_000, n=30)
    send(conn, device, "telemetry", [encode(first)])
    assert conn.execute("SELECT count(*) FROM rollup_queue").fetchone() == (2,)
    assert refresh_rollups(conn) == 2
    send(conn, device, "telemetry", [encode(second)])
    assert refresh_rollups(conn) == 1
    assert conn.execute("SELECT count(*) FROM rollup_queue").fetchone() == (0,)
    for table, unit in (("readings_1m", "minute"), ("readings_1h", "hour")):
        expected = conn.execute(
            f"SELECT date_trunc('{unit}', time), signal_id, avg(value), min(value), max(value), "
            "count(*) FROM readings_long WHERE vehicle_id = %s GROUP BY 1, 2 ORDER BY 1, 2",
            (device.vehicle_id,),
        ).fetchall()
        # The rollups are wide too: per signal, its avg/min/max/n columns.
        got = sorted(
            (bucket, s.id, avg, low, high, n)
            for s in SIGNALS
            for bucket, avg, low, high, n in conn.execute(
                sql.SQL(
                    "SELECT bucket, {c}_avg, {c}_min, {c}_max, {c}_n FROM {t} "
                    "WHERE vehicle_id = %s AND {c}_n > 0"
                ).format(c=sql.SQL(s.name), t=sql.Identifier(table)),
                (device.vehicle_id,),
            )
        )
        assert len(got) == len(expected) > 0
        for g, e in zip(got, expected, strict=True):
            assert g[:2] == e[:2] and g[3:] == e[3:]
            assert g[2] == pytest.approx(e[2])
        rows = conn.execute(
            f"SELECT date_trunc('{unit}', time), count(*) FROM readings WHERE vehicle_id = %s "
            "GROUP BY 1 ORDER BY 1",
            (device.vehicle_id,),
        ).fetchall()
        assert (
            rows
            == conn.execute(
                f"SELECT bucket, n FROM {table} WHERE vehicle_id = %s ORDER BY 1",
                (device.vehicle_id,),
            ).fetchall()
        )


def test_retention_drops_old_partitions_and_rollups(conn, device: Device):
    if has_timescaledb(conn):
        pytest.skip("TimescaleDB runs its own retention job")
    try:
        pipeline.prepare(conn)
        old = int((time.time() - 200 * 86400) * 1000)
        recent = int(time.time() * 1000) - 3600_000
        send(
            conn,
            device,
            "telemetry",
            [
                encode(make_batch(device.device_id, 1, base_time_ms=old)),
                encode(make_batch(device.device_id, 2, base_time_ms=recent)),
            ],
        )
        refresh_rollups(conn)
        apply_policy(conn, ReadingsPolicy(retention=timedelta(days=100)))
        assert current_policy(conn).retention == timedelta(days=100)
        assert enforce_retention(conn, now=now()) >= 1
        times = conn.execute(
            "SELECT min(time), max(time) FROM readings WHERE vehicle_id = %s", (device.vehicle_id,)
        ).fetchone()
        assert times[0] >= now() - timedelta(days=100)
        assert conn.execute(
            "SELECT count(*) FROM readings_1h WHERE bucket < %s", (now() - timedelta(days=100),)
        ).fetchone() == (0,)
        assert conn.execute(
            "SELECT count(*) FROM readings_long WHERE vehicle_id = %s", (device.vehicle_id,)
        ).fetchone() == (40,)
    finally:
        apply_policy(conn, ReadingsPolicy())
        pipeline.prepare(conn)  # the dropped partitions come back for the other tests


def test_policy_rejects_nonsense():
    with pytest.raises(ValueError, match="shorter than retention"):
        ReadingsPolicy(retention=timedelta(days=5), compress_after=timedelta(days=7))


def test_stopping_upkeep_cancels_a_long_refresh_quietly(db_url, monkeypatch, caplog):
    from ingest import upkeep

    started = threading.Event()

    def slow_refresh(conn):
        started.set()
        # The stop's first cancel comes before the query reaches the server (as on a loaded
        # machine), so cancelling once is not enough.
        time.sleep(0.3)
        conn.execute("SELECT pg_sleep(60)")
        return 0

    monkeypatch.setattr(upkeep, "REFRESH_INTERVAL_S", 0.05)
    monkeypatch.setattr(upkeep, "refresh_rollups", slow_refresh)
    job = upkeep.Upkeep(db_url)
    job.start()
    assert started.wait(10)
    t0 = time.monotonic()
    job.stop(timeout_s=10)
    assert time.monotonic() - t0 < 5
    assert not job._thread.is_alive()
    assert not [r for r in caplog.records if r.levelname == "WARNING"]
