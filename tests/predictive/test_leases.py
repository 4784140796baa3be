# SPDX-License-Identifier: MIT
"""Shard leases on real PostgreSQL: evaluators split the shards, take over dead ones' shards,
and together evaluate every vehicle exactly once per change."""

import threading
import time
from collections import Counter
from datetime import timedelta

import factories
import psycopg
import pytest
from drive_helpers import START, write_drive

import predictive.evaluator
import predictive.worker
from db.registry import create_vehicle
from predictive import OIL_MODEL, run_evaluator
from predictive.leases import heartbeat, holders, release, shard_count, shard_of

T0 = START
TTL = 30.0


@pytest.fixture
def shards(conn):
    """All shards free (leases survive the per-test truncation on purpose)."""
    conn.execute(
        "UPDATE evaluator_shards SET owner = NULL, expires_at = '-infinity', heartbeat = NULL"
    )
    return shard_count(conn)


def test_there_are_64_shards_and_python_agrees_with_sql(conn, shards):
    assert shards == 64
    ids = [1, 63, 64, 65, 1000, 2**40 + 7]
    in_sql = conn.execute("SELECT v %% 64 FROM unnest(%s::bigint[]) AS v", (ids,)).fetchall()
    assert [r[0] for r in in_sql] == [shard_of(v, 64) for v in ids]


def test_a_second_evaluator_gets_half_within_two_heartbeats(conn, shards):
    a = heartbeat(conn, "a", ttl_s=TTL, now=T0)
    assert a == list(range(64))
    assert heartbeat(conn, "b", ttl_s=TTL, now=T0) == []  # none free yet
    a = heartbeat(conn, "a", ttl_s=TTL, now=T0 + timedelta(seconds=10))  # gives half back
    b = heartbeat(conn, "b", ttl_s=TTL, now=T0 + timedelta(seconds=10))
    assert a == list(range(32)) and b == list(range(32, 64))
    # Steady state: renewing changes nothing.
    for step in (20, 30, 40):
        at = T0 + timedelta(seconds=step)
        assert heartbeat(conn, "a", ttl_s=TTL, now=at) == a
        assert heartbeat(conn, "b", ttl_s=TTL, now=at) == b
    # A third evaluator: ceil(64 / 3) = 22 each.
    at = T0 + timedelta(seconds=50)
    heartbeat(conn, "c", ttl_s=TTL, now=at)
    heartbeat(conn, "a", ttl_s=TTL, now=at)
    heartbeat(conn, "b", ttl_s=TTL, now=at)
    held = {o: heartbeat(conn, o, ttl_s=TTL, now=at) for o in ("c", "a", "b")}
    assert sorted(len(s) for s in held.values()) == [20, 22, 22]
    assert sorted(s for o in held.values() for s in o) == list(range(64))


def test_a_dead_evaluators_shards_are_taken_over_after_expiry(conn, shards):
    heartbeat(conn, "a", ttl_s=TTL, now=T0)
    heartbeat(conn, "b", ttl_s=TTL, now=T0)
    heartbeat(conn, "a", ttl_s=TTL, now=T0)
    assert len(heartbeat(conn, "b", ttl_s=TTL, now=T0)) == 32
    # b dies. Before its leases expire, a keeps its fair half.
    assert len(heartbeat(conn, "a", ttl_s=TTL, now=T0 + timedelta(seconds=25))) == 32
    # After: a alone, takes everything.
    assert heartbeat(conn, "a", ttl_s=TTL, now=T0 + timedelta(seconds=31)) == list(range(64))


def test_max_shards_and_release(conn, shards):
    assert heartbeat(conn, "a", ttl_s=TTL, max_shards=5, now=T0) == [0, 1, 2, 3, 4]
    assert len(heartbeat(conn, "b", ttl_s=TTL, now=T0)) == 32
    assert release(conn, "a") == 5
    # b is alone now: its fair share is everything.
    assert heartbeat(conn, "b", ttl_s=TTL, now=T0 + timedelta(seconds=1)) == list(range(64))
    assert conn.execute("SELECT owner FROM evaluators").fetchall() == [("b",)]


def test_concurrent_claims_never_share_a_shard(db_url, conn, shards):
    barrier = threading.Barrier(6)
    results = {}

    def claim(name):
        with psycopg.connect(db_url, autocommit=True) as c:
            barrier.wait()
            results[name] = heartbeat(c, name, ttl_s=TTL)

    threads = [threading.Thread(target=claim, args=(f"e{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    taken = [s for held in results.values() for s in held]
    assert len(taken) == len(set(taken))
    owners = holders(conn)
    assert all(owners[s] == name for name, held in results.items() for s in held)


def _record_evaluations(monkeypatch):
    """(owner, vehicle, models written) for every vehicle the evaluators evaluated."""
    calls = []
    lock = threading.Lock()
    real = predictive.evaluator.evaluate_vehicles

    def recording(**kwargs):
        written = real(**kwargs)
        with lock:
            calls.extend((kwargs.get("lease_owner"), vid, n) for vid, n in written.items())
        return written

    monkeypatch.setattr(predictive.worker, "evaluate_vehicles", recording)
    return calls


def _start(db_url, owner, stop, **kwargs):
    worker = threading.Thread(
        target=run_evaluator,
        args=(db_url,),
        kwargs={
            "stop_event": stop,
            "owner": owner,
            "poll_interval_s": 3600.0,
            "lease_ttl_s": 1.5,
            "clock": lambda: START + timedelta(hours=1),
            **kwargs,
        },
        daemon=True,
    )
    worker.start()
    return worker


def _wait(predicate, what, timeout_s=15.0):
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _vehicles(conn, n):
    return [create_vehicle(conn, vin=f"WLSHARD{i:010d}", pad_front_mm=9.0) for i in range(n)]


def test_two_evaluators_split_the_shards_and_evaluate_each_vehicle_once(
    conn, db_url, shards, monkeypatch
):
    calls = _record_evaluations(monkeypatch)
    vehicles = _vehicles(conn, 70)  # ids 1..70 cover every shard
    stop = threading.Event()
    workers = [_start(db_url, name, stop) for name in ("ev-a", "ev-b")]
    try:
        _wait(
            lambda: Counter(holders(conn).values()) == {"ev-a": 32, "ev-b": 32},
            "the shards to split evenly",
        )
        owner_of = holders(conn)
        for vid in vehicles:
            write_drive(conn, vid, hours=0.1)
        for vid in vehicles:
            conn.execute("SELECT pg_notify('wl_vehicle_data', %s)", (str(vid),))

        def all_done():
            (n,) = conn.execute(
                "SELECT count(DISTINCT vehicle_id) FROM predictions WHERE model = %s",
                (OIL_MODEL,),
            ).fetchone()
            return n == len(vehicles)

        _wait(all_done, "every vehicle to be evaluated")
        # A change notified again (a duplicate notification) writes nothing new.
        for vid in vehicles[:10]:
            conn.execute("SELECT pg_notify('wl_vehicle_data', %s)", (str(vid),))
        time.sleep(0.5)
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=10)
    assert not any(w.is_alive() for w in workers)
    per_vehicle = dict(
        conn.execute("SELECT vehicle_id, count(*) FROM predictions GROUP BY vehicle_id").fetchall()
    )
    assert per_vehicle == {vid: 2 for vid in vehicles}  # one oil, one brake prediction each
    writers = {vid: owner for owner, vid, written in calls if written}
    assert writers == {vid: owner_of[shard_of(vid, shards)] for vid in vehicles}
    assert set(writers.values()) == {"ev-a", "ev-b"}
    # Nobody evaluated a vehicle outside its shards, and both gave them back on stop.
    assert all(owner_of[shard_of(vid, shards)] == owner for owner, vid, _ in calls)
    assert set(holders(conn).values()) == {None}


def test_a_crashed_evaluators_shards_are_taken_over_and_swept(conn, db_url, shards):
    vehicles = _vehicles(conn, 3)
    # A crashed evaluator still holds every shard for another second.
    crashed_at = time.monotonic()
    conn.execute(
        "UPDATE evaluator_shards SET owner = 'crashed', "
        "expires_at = now() + interval '1 second', heartbeat = now()"
    )
    conn.execute(
        "INSERT INTO evaluators (owner, expires_at) VALUES ('crashed', now() + interval '1 s')"
    )
    for vid in vehicles:
        write_drive(conn, vid, hours=0.1)
        # Ingest's state row: what the sweep finds vehicles with new data by.
        factories.vehicle_state(conn, vid, last_seen=START)
    stop = threading.Event()
    worker = _start(db_url, "survivor", stop)
    try:
        time.sleep(0.3)
        assert conn.execute("SELECT count(*) FROM predictions").fetchone()[0] == 0
        _wait(
            lambda: conn.execute("SELECT count(*) FROM predictions").fetchone()[0] == 6,
            "the survivor to take over and sweep",
        )
        assert time.monotonic() - crashed_at >= 0.9  # not before the crashed leases expired
        assert set(holders(conn).values()) == {"survivor"}
    finally:
        stop.set()
        worker.join(timeout=10)
    assert not worker.is_alive()


def test_a_running_evaluator_turns_notified_trouble_codes_into_alerts(conn, db_url, shards):
    (vid,) = _vehicles(conn, 1)
    stop = threading.Event()
    worker = _start(db_url, "solo", stop)
    try:
        _wait(lambda: set(holders(conn).values()) == {"solo"}, "the evaluator to hold the shards")
        factories.trouble_codes(conn, vid, stored=["P0302"])
        conn.execute("SELECT pg_notify('wl_vehicle_data', %s)", (str(vid),))
        _wait(
            lambda: (
                conn.execute(
                    "SELECT tier FROM alerts WHERE vehicle_id = %s AND kind = 'trouble_code'",
                    (vid,),
                ).fetchall()
                == [("critical",)]
            ),
            "the misfire alert",
        )
    finally:
        stop.set()
        worker.join(timeout=10)
    assert not worker.is_alive()
