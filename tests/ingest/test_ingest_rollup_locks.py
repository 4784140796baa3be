# SPDX-License-Identifier: MIT
"""Two ingest workers refreshing rollups at once never deadlock (plain PostgreSQL).

A (vehicle, hour) queued by two flushes can be taken by two refreshers, each with other pairs
besides; both upsert the same buckets. Revision 0024 orders the upserts so every refresher
locks buckets in the same order. Before it, this test's rounds hit "deadlock detected" about
once in 30 (measured on PostgreSQL 15 with revision 0018's function); 60 rounds then fail
with a probability of about 87 %, and the definition check below fails every time.
"""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from factories import vehicle

from db.timescale import has_timescaledb

ROUNDS = 60
PAIRS_EACH = 200


@pytest.fixture
def plain(conn: psycopg.Connection) -> psycopg.Connection:
    if has_timescaledb(conn):
        pytest.skip("TimescaleDB keeps the rollups as continuous aggregates: no refresher")
    return conn


def test_the_refresh_upserts_buckets_in_key_order(plain):
    definition = plain.execute(
        "SELECT pg_get_functiondef('wl_refresh_rollup_queue'::regproc)"
    ).fetchone()[0]
    assert definition.count("ORDER BY 2, 1") == 2


def test_concurrent_refreshers_of_overlapping_pairs_never_deadlock(plain, db_url):
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    vehicles = [vehicle(plain).vehicle_id for _ in range(20)]
    plain.execute(
        "INSERT INTO readings (time, vehicle_id, speed_kmh) "
        "SELECT t, v, 50 FROM generate_series(%s::timestamptz, %s, interval '20 seconds') t, "
        "unnest(%s::bigint[]) v",
        (hour - timedelta(hours=20), hour, vehicles),
    )
    pairs = [(v, hour - timedelta(hours=h)) for v in vehicles for h in range(20)]
    rng = random.Random(7)
    failures: list[BaseException] = []

    def refresh() -> None:
        try:
            with psycopg.connect(db_url, autocommit=True) as conn:
                conn.execute("SELECT wl_refresh_rollup_queue(%s)", (PAIRS_EACH,))
        except BaseException as exc:  # reported by the test thread
            failures.append(exc)

    for _ in range(ROUNDS):
        rng.shuffle(pairs)
        # Half of each refresher's pairs are the other's too.
        queued = pairs[:PAIRS_EACH] + pairs[PAIRS_EACH // 2 : PAIRS_EACH // 2 + PAIRS_EACH]
        plain.execute(
            "INSERT INTO rollup_queue (vehicle_id, hour) "
            "SELECT * FROM unnest(%s::bigint[], %s::timestamptz[])",
            ([v for v, _ in queued], [h for _, h in queued]),
        )
        threads = [threading.Thread(target=refresh) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads), "a refresh hung"
        assert failures == []
    assert plain.execute("SELECT count(*) FROM rollup_queue").fetchone()[0] == 0
    hours = plain.execute("SELECT count(*) FROM readings_1h").fetchone()[0]
    assert hours == len(pairs)
