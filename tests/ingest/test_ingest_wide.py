# SPDX-License-Identifier: MIT
"""The wide readings layout on real PostgreSQL: the COPY builder loses and invents nothing,
ingest refuses a schema without a catalogue signal's column, and revision 0004 pivots the
rows of the old layout into the new one."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg
import pytest
from psycopg import sql

import db
from db.migrate import with_database
from db.timescale import has_timescaledb
from ingest import store, wide
from telemetry import SIGNALS

# A whole hour a day back: the samples' date follows the date the tests run on.
T0_MS = (int(time.time()) // 3600 - 24) * 3600 * 1000


def _samples(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    """Samples on a coarse grid of instants, so that rows share instants and some (vehicle,
    time, signal) repeat."""
    vehicle = rng.integers(1, 4, n)
    time_ms = T0_MS + 1000 * rng.integers(0, 40, n)
    signal = rng.choice([s.id for s in SIGNALS], n)
    value = np.round(rng.normal(50, 20, n), 3)
    return vehicle, time_ms, signal, value


def _copy(conn: psycopg.Connection, rows: wide.Rows) -> None:
    with conn.transaction(), conn.cursor() as cur, cur.copy(wide.COPY_SQL) as copy:
        copy.write(wide.copy_data(rows))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_copy_stores_every_sample_once_even_repeated_ones(conn, seed):
    vehicle, time_ms, signal, value = _samples(np.random.default_rng(seed), 3000)
    rows = wide.pivot(vehicle, time_ms, signal, value)
    assert rows.samples == len(value)
    assert len(rows) < len(value)  # instants are shared: fewer rows than samples
    _copy(conn, rows)
    stored = Counter(
        (v, int(t.timestamp() * 1000), s, val)
        for v, t, s, val in conn.execute(
            "SELECT vehicle_id, time, signal_id, value FROM readings_long"
        )
    )
    sent = Counter(
        (int(v), int(t), int(s), float(x))
        for v, t, s, x in zip(vehicle, time_ms, signal, value, strict=True)
    )
    assert stored == sent
    assert conn.execute(wide.SAMPLES_SQL).fetchone() == (len(value),)


def test_rows_of_one_instant_hold_its_signals_together(conn):
    t = np.array([T0_MS, T0_MS, T0_MS, T0_MS + 1000])
    rows = wide.pivot(np.array([7, 7, 7, 7]), t, np.array([0x0D, 0x0C, 0x05, 0x0D]), np.ones(4))
    _copy(conn, rows)
    got = conn.execute(
        "SELECT speed_kmh, engine_rpm, coolant_temp_c, oil_temp_c FROM readings ORDER BY time"
    ).fetchall()
    assert got == [(1.0, 1.0, 1.0, None), (1.0, None, None, None)]


def test_signal_outside_the_catalogue_is_refused():
    with pytest.raises(ValueError, match="outside the catalogue"):
        wide.pivot(np.array([1]), np.array([T0_MS]), np.array([0x99]), np.array([1.0]))


class _Undo(Exception):
    pass


def test_ingest_refuses_a_schema_without_a_signals_column(conn):
    with pytest.raises(_Undo), conn.transaction():
        if has_timescaledb(conn):
            # Its continuous aggregates read the column: TimescaleDB refuses to drop it under
            # them (their internal views cannot be dropped alone). Rolled back with the rest.
            conn.execute("DROP MATERIALIZED VIEW readings_1h")
            conn.execute("DROP MATERIALIZED VIEW readings_1m")
        conn.execute("ALTER TABLE readings DROP COLUMN oil_temp_c CASCADE")
        with pytest.raises(store.SchemaBehind, match=r"oil_temp_c.*wrenchlight db migrate"):
            store.check_columns(conn)
        raise _Undo
    store.check_columns(conn)  # the column is back


@pytest.fixture
def database_at_0003(postgres_server_url):
    name = f"wl_mig_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_server_url, autocommit=True) as c:
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(postgres_server_url, name)
    db.upgrade(url, "0003")
    yield url
    with psycopg.connect(postgres_server_url, autocommit=True) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_revision_0004_pivots_the_old_rows_and_rebuilds_the_rollups(database_at_0003):
    # A migration has no caller's clock: its partitions are laid around the server's now(),
    # so the old rows are dated by that clock too.
    with psycopg.connect(database_at_0003) as c:
        server_now = c.execute("SELECT now()").fetchone()[0]
    start = server_now.replace(minute=0, second=0, microsecond=0) - timedelta(days=40)
    old_rows = [
        (start + timedelta(seconds=s), vehicle, signal, float(s + signal))
        for vehicle in (1, 2)
        for s in range(0, 600, 10)
        for signal in ((0x0D, 0x0C) if s % 30 else (0x0D, 0x0C, 0x05))
    ]
    old_copy = "COPY readings (time, vehicle_id, signal_id, value) FROM STDIN"
    with psycopg.connect(database_at_0003, autocommit=True) as c, c.cursor().copy(old_copy) as cp:
        for row in old_rows:
            cp.write_row(row)
    db.upgrade(database_at_0003)
    with psycopg.connect(database_at_0003, autocommit=True) as c:
        got = sorted(c.execute("SELECT time, vehicle_id, signal_id, value FROM readings_long"))
        assert got == sorted(old_rows)
        assert c.execute("SELECT count(*) FROM readings").fetchone() == (2 * 60,)
        # The old table is gone; the new one is a hypertable on TimescaleDB, else partitioned
        # by month under the partitions' usual names.
        assert c.execute("SELECT to_regclass('readings_narrow')").fetchone() == (None,)
        if has_timescaledb(c):
            assert c.execute(
                "SELECT count(*) FROM timescaledb_information.hypertables "
                "WHERE hypertable_name = 'readings'"
            ).fetchone() == (1,)
        else:
            month = start.strftime("readings_%Y_%m")
            assert c.execute("SELECT to_regclass(%s) IS NOT NULL", (month,)).fetchone() == (True,)
        minutes = c.execute(
            "SELECT sum(n), sum(speed_kmh_n), sum(coolant_temp_c_n), max(engine_rpm_max) "
            "FROM readings_1m"
        ).fetchone()
        assert minutes == (120, 120, 40, 590.0 + 0x0C)
        hours = c.execute("SELECT sum(n), avg(speed_kmh_avg) FROM readings_1h").fetchone()
        assert hours[0] == 120
        assert hours[1] == pytest.approx(np.mean([s + 0x0D for s in range(0, 600, 10)]))


def test_revision_0004_goes_down_to_a_row_per_sample_and_up_again(database_at_0003):
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=3)
    samples = [
        (start + timedelta(seconds=s), 1, signal, float(s + signal))
        for s in range(0, 300, 10)
        for signal in ((0x0D, 0x0C) if s % 30 else (0x0D, 0x0C, 0x05))
    ]
    db.upgrade(database_at_0003)
    with psycopg.connect(database_at_0003, autocommit=True) as c:
        rows = wide.pivot(
            *(
                np.array(col)
                for col in (
                    [v for _, v, _, _ in samples],
                    [int(t.timestamp() * 1000) for t, _, _, _ in samples],
                    [s for _, _, s, _ in samples],
                    [x for _, _, _, x in samples],
                )
            )
        )
        _copy(c, rows)
    db.downgrade(database_at_0003, "0003")
    with psycopg.connect(database_at_0003, autocommit=True) as c:
        got = c.execute("SELECT time, vehicle_id, signal_id, value FROM readings").fetchall()
        assert sorted(got) == sorted(samples)
        # The narrow rollups are rebuilt by the downgrade (refreshed, on TimescaleDB).
        assert c.execute(
            "SELECT signal_id, sum(n) FROM readings_1m GROUP BY 1 ORDER BY 1"
        ).fetchall() == [(0x05, 10), (0x0C, 30), (0x0D, 30)]
    db.upgrade(database_at_0003)
    with psycopg.connect(database_at_0003, autocommit=True) as c:
        got = c.execute("SELECT time, vehicle_id, signal_id, value FROM readings_long").fetchall()
        assert sorted(got) == sorted(samples)
