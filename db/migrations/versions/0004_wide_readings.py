# SPDX-License-Identifier: MIT
"""Readings become wide: one row per (vehicle, timestamp), a column per catalogue signal.

Measured with ``wrenchlight bench layout`` (BENCHMARKS.md): on the same fleet data a wide row
copies 2-3x faster and takes about 0.4x the bytes per sample of a row per sample, because the
time, vehicle and tuple header are stored once per instant rather than once per signal. The
price is a migration per new signal (``ADD COLUMN``, cheap in PostgreSQL: a nullable column
without a default rewrites nothing).

Existing rows are pivoted into the new table. The rollups follow the same shape on both
paths, so queries see the same ``readings_1m`` / ``readings_1h`` either way: per bucket and
vehicle, ``n`` rows and per signal ``<signal>_avg``, ``_min``, ``_max`` and ``_n`` (its
samples). TimescaleDB keeps them as continuous aggregates over the hypertable, compressed
segment by vehicle; plain PostgreSQL as tables refreshed from ingest's rollup queue.
``readings_long`` unpivots the readings back to (time, vehicle_id, signal_id, value) for
ad-hoc queries.

The downgrade unpivots the rows back (a row per sample) and restores the narrow rollups.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from alembic import op

from db.timescale import CHECK_SQL

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The catalogue as of this revision, (wire id, column): frozen here so that the migration
# means the same thing whatever the catalogue later becomes. A new signal is a new revision.
SIGNALS = (
    (0x04, "engine_load_pct"),
    (0x05, "coolant_temp_c"),
    (0x0C, "engine_rpm"),
    (0x0D, "speed_kmh"),
    (0x11, "throttle_pct"),
    (0x2F, "fuel_level_pct"),
    (0x42, "module_voltage_v"),
    (0x46, "ambient_temp_c"),
    (0x5C, "oil_temp_c"),
    (0xA6, "odometer_km"),
)
NAMES = [name for _, name in SIGNALS]


def _join(template: str, sep: str = ", ") -> str:
    return sep.join(template.format(c=c, i=i) for i, c in SIGNALS)


TABLE = f"""
CREATE TABLE readings (
    time        timestamptz NOT NULL,
    vehicle_id  bigint NOT NULL,
    {_join("{c} double precision")}
) {{partition_clause}};
CREATE INDEX readings_vehicle_time ON readings (vehicle_id, time DESC);
"""

# Old rows (one per sample) into new ones (one per instant).
PIVOT = f"""
INSERT INTO readings (time, vehicle_id, {", ".join(NAMES)})
SELECT time, vehicle_id, {_join("max(value) FILTER (WHERE signal_id = {i})")}
FROM readings_narrow GROUP BY time, vehicle_id;
"""

LONG_VIEW = f"""
CREATE VIEW readings_long AS
SELECT r.time, r.vehicle_id, s.signal_id, s.value
FROM readings r CROSS JOIN LATERAL (VALUES {_join("({i}::smallint, r.{c})")})
     AS s(signal_id, value)
WHERE s.value IS NOT NULL;
"""

# Per-signal rollup columns from raw readings, and from 1-minute rollups into an hour.
RAW_AGGREGATES = _join(
    "avg({c}) AS {c}_avg, min({c}) AS {c}_min, max({c}) AS {c}_max, count({c}) AS {c}_n"
)
MINUTE_AGGREGATES = _join(
    "sum(m.{c}_avg * m.{c}_n) / NULLIF(sum(m.{c}_n), 0), min(m.{c}_min), max(m.{c}_max), "
    "sum(m.{c}_n)::bigint"
)
ROLLUP_COLUMNS = _join("{c}_avg double precision, {c}_min double precision, "
                       "{c}_max double precision, {c}_n bigint")
UPSERT = "ON CONFLICT (vehicle_id, bucket) DO UPDATE SET n = EXCLUDED.n, " + _join(
    "{c}_avg = EXCLUDED.{c}_avg, {c}_min = EXCLUDED.{c}_min, {c}_max = EXCLUDED.{c}_max, "
    "{c}_n = EXCLUDED.{c}_n"
)

TIMESCALE = f"""
DROP MATERIALIZED VIEW IF EXISTS readings_1h;
DROP MATERIALIZED VIEW IF EXISTS readings_1m;
SELECT remove_compression_policy('readings', if_exists => true);
SELECT remove_retention_policy('readings', if_exists => true);
ALTER TABLE readings RENAME TO readings_narrow;
{TABLE.replace("{partition_clause}", "")}
SELECT create_hypertable('readings', by_range('time',
       (SELECT chunk_interval FROM readings_policy)));
ALTER TABLE readings SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'vehicle_id',
    timescaledb.compress_orderby = 'time DESC'
);
{PIVOT}
DROP TABLE readings_narrow;
SELECT add_compression_policy('readings',
       compress_after => (SELECT compress_after FROM readings_policy));
SELECT add_retention_policy('readings', drop_after => (SELECT retention FROM readings_policy));

CREATE MATERIALIZED VIEW readings_1m WITH (timescaledb.continuous) AS
SELECT time_bucket(INTERVAL '1 minute', time) AS bucket, vehicle_id, count(*) AS n,
       {RAW_AGGREGATES}
FROM readings GROUP BY bucket, vehicle_id WITH NO DATA;
SELECT add_continuous_aggregate_policy('readings_1m', start_offset => INTERVAL '2 days',
       end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '1 minute');

CREATE MATERIALIZED VIEW readings_1h WITH (timescaledb.continuous) AS
SELECT time_bucket(INTERVAL '1 hour', time) AS bucket, vehicle_id, count(*) AS n,
       {RAW_AGGREGATES}
FROM readings GROUP BY bucket, vehicle_id WITH NO DATA;
SELECT add_continuous_aggregate_policy('readings_1h', start_offset => INTERVAL '30 days',
       end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '30 minutes');
"""

# The pivoted history must be in the new aggregates; a refresh cannot run in a transaction.
TIMESCALE_REFRESH = (
    "CALL refresh_continuous_aggregate('readings_1m', NULL, NULL)",
    "CALL refresh_continuous_aggregate('readings_1h', NULL, NULL)",
)

PLAIN = f"""
-- Move the old table and its partitions aside under other names, so the new partitions can
-- take the usual ones (wl_ensure_partitions names them readings_YYYY_MM).
ALTER TABLE readings RENAME TO readings_narrow;
DO $$
DECLARE part record;
BEGIN
    FOR part IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = 'readings_narrow'::regclass
    LOOP
        EXECUTE format('ALTER TABLE %I RENAME TO %I', part.relname,
                       'readings_narrow' || substr(part.relname, 9));
    END LOOP;
END $$;
{TABLE.replace("{partition_clause}", "PARTITION BY RANGE (time)")}
CREATE TABLE readings_default PARTITION OF readings DEFAULT;
SELECT wl_ensure_partitions(
    LEAST(now() - INTERVAL '12 months', (SELECT min(time) FROM readings_narrow)),
    now() + INTERVAL '3 months');
{PIVOT}
DROP TABLE readings_narrow;

DROP TABLE readings_1m, readings_1h;
CREATE TABLE readings_1m (
    bucket timestamptz NOT NULL, vehicle_id bigint NOT NULL, n bigint NOT NULL,
    {ROLLUP_COLUMNS},
    PRIMARY KEY (vehicle_id, bucket)
);
CREATE TABLE readings_1h (LIKE readings_1m INCLUDING ALL);

-- Recompute the rollup buckets touching [from_ts, to_ts); idempotent.
CREATE OR REPLACE FUNCTION wl_refresh_rollups(from_ts timestamptz, to_ts timestamptz)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO readings_1m
    SELECT date_trunc('minute', time), vehicle_id, count(*), {RAW_AGGREGATES}
    FROM readings WHERE time >= date_trunc('minute', from_ts) AND time < to_ts
    GROUP BY 1, 2
    {UPSERT};
    INSERT INTO readings_1h
    SELECT date_trunc('hour', m.bucket), m.vehicle_id, sum(m.n)::bigint, {MINUTE_AGGREGATES}
    FROM readings_1m m WHERE m.bucket >= date_trunc('hour', from_ts) AND m.bucket < to_ts
    GROUP BY 1, 2
    {UPSERT};
$$;

-- Recompute the rollups of up to max_rows queued (vehicle, hour) rows; returns the rows taken.
-- SKIP LOCKED lets several refreshers share the queue; a pair queued again while being
-- refreshed is refreshed again next time.
CREATE OR REPLACE FUNCTION wl_refresh_rollup_queue(max_rows int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    taken int;
    vids bigint[];
    hours timestamptz[];
BEGIN
    WITH picked AS (
        SELECT ctid FROM rollup_queue LIMIT max_rows FOR UPDATE SKIP LOCKED
    ), gone AS (
        DELETE FROM rollup_queue q USING picked p WHERE q.ctid = p.ctid
        RETURNING q.vehicle_id, q.hour
    ), pairs AS (
        SELECT DISTINCT vehicle_id, hour FROM gone
    )
    SELECT (SELECT count(*) FROM gone), array_agg(vehicle_id), array_agg(hour)
    INTO taken, vids, hours FROM pairs;
    IF vids IS NULL THEN
        RETURN 0;
    END IF;
    INSERT INTO readings_1m
    SELECT date_trunc('minute', r.time), r.vehicle_id, count(*), {RAW_AGGREGATES}
    FROM unnest(vids, hours) AS b(vehicle_id, hour)
    JOIN readings r ON r.vehicle_id = b.vehicle_id
         AND r.time >= b.hour AND r.time < b.hour + INTERVAL '1 hour'
    GROUP BY 1, 2
    {UPSERT};
    INSERT INTO readings_1h
    SELECT b.hour, m.vehicle_id, sum(m.n)::bigint, {MINUTE_AGGREGATES}
    FROM unnest(vids, hours) AS b(vehicle_id, hour)
    JOIN readings_1m m ON m.vehicle_id = b.vehicle_id
         AND m.bucket >= b.hour AND m.bucket < b.hour + INTERVAL '1 hour'
    GROUP BY 1, 2
    {UPSERT};
    RETURN taken;
END $$;

SELECT wl_refresh_rollups('-infinity', 'infinity');
"""


def upgrade() -> None:
    timescale = op.get_bind().exec_driver_sql(CHECK_SQL).first() is not None
    op.execute(TIMESCALE if timescale else PLAIN)
    op.execute(LONG_VIEW)
    if timescale:
        with op.get_context().autocommit_block():
            for statement in TIMESCALE_REFRESH:
                op.execute(statement)


# Back to a row per sample. The narrow rollups and functions are those of revisions 0001 and
# 0002, restated here as they were.
UNPIVOT = """
INSERT INTO readings (time, vehicle_id, signal_id, value)
SELECT r.time, r.vehicle_id, s.signal_id, s.value
FROM readings_wide r CROSS JOIN LATERAL (VALUES {values}) AS s(signal_id, value)
WHERE s.value IS NOT NULL;
""".format(values=_join("({i}::smallint, r.{c})"))

NARROW_TABLE = """
CREATE TABLE readings (
    time        timestamptz NOT NULL,
    vehicle_id  bigint NOT NULL,
    signal_id   smallint NOT NULL,
    value       double precision NOT NULL
) {partition_clause};
CREATE INDEX readings_vehicle_signal_time ON readings (vehicle_id, signal_id, time DESC);
"""

NARROW_AGGREGATES = "avg(value) AS avg, min(value) AS min, max(value) AS max, count(*) AS n"

# Each continuous aggregate goes (its refresh policy with it) before the hypertable it reads:
# dropping the hypertable first would cascade to the aggregates' internal views, which
# TimescaleDB refuses ("required by a continuous aggregate").
TIMESCALE_DOWN = f"""
DROP VIEW IF EXISTS readings_long;
SELECT remove_continuous_aggregate_policy('readings_1h', if_exists => true);
SELECT remove_continuous_aggregate_policy('readings_1m', if_exists => true);
DROP MATERIALIZED VIEW IF EXISTS readings_1h;
DROP MATERIALIZED VIEW IF EXISTS readings_1m;
SELECT remove_compression_policy('readings', if_exists => true);
SELECT remove_retention_policy('readings', if_exists => true);
ALTER TABLE readings RENAME TO readings_wide;
{NARROW_TABLE.replace("{partition_clause}", "")}
SELECT create_hypertable('readings', by_range('time',
       (SELECT chunk_interval FROM readings_policy)));
ALTER TABLE readings SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'vehicle_id, signal_id',
    timescaledb.compress_orderby = 'time DESC'
);
{UNPIVOT}
DROP TABLE readings_wide;
SELECT add_compression_policy('readings',
       compress_after => (SELECT compress_after FROM readings_policy));
SELECT add_retention_policy('readings', drop_after => (SELECT retention FROM readings_policy));

CREATE MATERIALIZED VIEW readings_1m WITH (timescaledb.continuous) AS
SELECT time_bucket(INTERVAL '1 minute', time) AS bucket, vehicle_id, signal_id,
       {NARROW_AGGREGATES}
FROM readings GROUP BY bucket, vehicle_id, signal_id WITH NO DATA;
SELECT add_continuous_aggregate_policy('readings_1m', start_offset => INTERVAL '2 days',
       end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '1 minute');

CREATE MATERIALIZED VIEW readings_1h WITH (timescaledb.continuous) AS
SELECT time_bucket(INTERVAL '1 hour', time) AS bucket, vehicle_id, signal_id,
       {NARROW_AGGREGATES}
FROM readings GROUP BY bucket, vehicle_id, signal_id WITH NO DATA;
SELECT add_continuous_aggregate_policy('readings_1h', start_offset => INTERVAL '30 days',
       end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '30 minutes');
"""

NARROW_UPSERT = """ON CONFLICT (vehicle_id, signal_id, bucket) DO UPDATE
        SET avg = EXCLUDED.avg, min = EXCLUDED.min, max = EXCLUDED.max, n = EXCLUDED.n"""

PLAIN_DOWN = f"""
DROP VIEW IF EXISTS readings_long;
ALTER TABLE readings RENAME TO readings_wide;
DO $$
DECLARE part record;
BEGIN
    FOR part IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = 'readings_wide'::regclass
    LOOP
        EXECUTE format('ALTER TABLE %I RENAME TO %I', part.relname,
                       'readings_wide' || substr(part.relname, 9));
    END LOOP;
END $$;
{NARROW_TABLE.replace("{partition_clause}", "PARTITION BY RANGE (time)")}
CREATE TABLE readings_default PARTITION OF readings DEFAULT;
SELECT wl_ensure_partitions(
    LEAST(now() - INTERVAL '12 months', (SELECT min(time) FROM readings_wide)),
    now() + INTERVAL '3 months');
{UNPIVOT}
DROP TABLE readings_wide;

DROP TABLE readings_1m, readings_1h;
CREATE TABLE readings_1m (
    bucket timestamptz NOT NULL, vehicle_id bigint NOT NULL, signal_id smallint NOT NULL,
    avg double precision, min double precision, max double precision, n bigint,
    PRIMARY KEY (vehicle_id, signal_id, bucket)
);
CREATE TABLE readings_1h (LIKE readings_1m INCLUDING ALL);

CREATE OR REPLACE FUNCTION wl_refresh_rollups(from_ts timestamptz, to_ts timestamptz)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO readings_1m
    SELECT date_trunc('minute', time), vehicle_id, signal_id, avg(value), min(value),
           max(value), count(*)
    FROM readings WHERE time >= date_trunc('minute', from_ts) AND time < to_ts
    GROUP BY 1, 2, 3
    {NARROW_UPSERT};
    INSERT INTO readings_1h
    SELECT date_trunc('hour', time), vehicle_id, signal_id, avg(value), min(value),
           max(value), count(*)
    FROM readings WHERE time >= date_trunc('hour', from_ts) AND time < to_ts
    GROUP BY 1, 2, 3
    {NARROW_UPSERT};
$$;

CREATE OR REPLACE FUNCTION wl_refresh_rollup_queue(max_rows int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    sig smallint[] := ARRAY(SELECT signal_id FROM signals);
    taken int;
    vids bigint[];
    hours timestamptz[];
BEGIN
    WITH picked AS (
        SELECT ctid FROM rollup_queue LIMIT max_rows FOR UPDATE SKIP LOCKED
    ), gone AS (
        DELETE FROM rollup_queue q USING picked p WHERE q.ctid = p.ctid
        RETURNING q.vehicle_id, q.hour
    ), pairs AS (
        SELECT DISTINCT vehicle_id, hour FROM gone
    )
    SELECT (SELECT count(*) FROM gone), array_agg(vehicle_id), array_agg(hour)
    INTO taken, vids, hours FROM pairs;
    IF vids IS NULL THEN
        RETURN 0;
    END IF;
    INSERT INTO readings_1m
    SELECT date_trunc('minute', r.time), r.vehicle_id, r.signal_id,
           avg(r.value), min(r.value), max(r.value), count(*)
    FROM unnest(vids, hours) AS b(vehicle_id, hour)
    JOIN readings r ON r.vehicle_id = b.vehicle_id AND r.signal_id = ANY(sig)
         AND r.time >= b.hour AND r.time < b.hour + INTERVAL '1 hour'
    GROUP BY 1, 2, 3
    {NARROW_UPSERT};
    INSERT INTO readings_1h
    SELECT b.hour, m.vehicle_id, m.signal_id,
           sum(m.avg * m.n) / sum(m.n), min(m.min), max(m.max), sum(m.n)
    FROM unnest(vids, hours) AS b(vehicle_id, hour)
    JOIN readings_1m m ON m.vehicle_id = b.vehicle_id AND m.signal_id = ANY(sig)
         AND m.bucket >= b.hour AND m.bucket < b.hour + INTERVAL '1 hour'
    GROUP BY 1, 2, 3
    {NARROW_UPSERT};
    RETURN taken;
END $$;

SELECT wl_refresh_rollups('-infinity', 'infinity');
"""


def downgrade() -> None:
    timescale = op.get_bind().exec_driver_sql(CHECK_SQL).first() is not None
    op.execute(TIMESCALE_DOWN if timescale else PLAIN_DOWN)
    if timescale:
        with op.get_context().autocommit_block():
            for statement in TIMESCALE_REFRESH:
                op.execute(statement)
