# SPDX-License-Identifier: MIT
"""Ingest events and upkeep: trouble-code state, trips, device status, rollup queue,
retention of plain partitions, and a table of policy settings.

- ``vehicle_dtcs`` holds each vehicle's current stored, pending and permanent codes;
  ``dtc_events`` gains the kind of code and the device, so a diff of two snapshots becomes
  'appeared' and 'cleared' events.
- ``trips``: ignition on to off, inferred from the telemetry's time gaps.
- ``devices`` gains the last status message (online/offline, firmware, supported signals).
- On plain PostgreSQL, ingest queues every (vehicle, hour) it wrote in ``rollup_queue``;
  ``wl_refresh_rollup_queue(n)`` recomputes the 1-minute and 1-hour rollups of up to n queued
  hours (several refreshers can run: they skip each other's rows), and
  ``wl_drop_partitions(older_than)`` is the retention policy. TimescaleDB does both itself.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from alembic import op

from db.timescale import CHECK_SQL

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COMMON = """
ALTER TABLE dtc_events
    ADD COLUMN kind text NOT NULL DEFAULT 'stored' CHECK (kind IN ('stored', 'pending', 'permanent')),
    ADD COLUMN device_id text;

CREATE TABLE vehicle_dtcs (
    vehicle_id     bigint PRIMARY KEY REFERENCES vehicles,
    snapshot_time  timestamptz,  -- of the last snapshot applied; NULL: none yet
    stored         text[] NOT NULL DEFAULT '{}',
    pending        text[] NOT NULL DEFAULT '{}',
    permanent      text[] NOT NULL DEFAULT '{}',
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE trips (
    trip_id            bigserial PRIMARY KEY,
    vehicle_id         bigint NOT NULL REFERENCES vehicles,
    started_at         timestamptz NOT NULL,
    ended_at           timestamptz NOT NULL CHECK (ended_at >= started_at),
    start_odometer_km  double precision,
    end_odometer_km    double precision,
    max_speed_kmh      real,
    samples            bigint NOT NULL DEFAULT 0,
    batches            int NOT NULL DEFAULT 0
);
CREATE INDEX trips_vehicle_time ON trips (vehicle_id, ended_at DESC);

-- One row: how long readings are kept, when TimescaleDB compresses them, its chunk size.
-- `wrenchlight db policy` changes it (and TimescaleDB's jobs); plain PostgreSQL's ingest
-- upkeep reads it.
CREATE TABLE readings_policy (
    id              boolean PRIMARY KEY DEFAULT true CHECK (id),
    retention       interval NOT NULL DEFAULT '400 days' CHECK (retention >= '1 day'),
    compress_after  interval NOT NULL DEFAULT '7 days' CHECK (compress_after >= '1 hour'),
    chunk_interval  interval NOT NULL DEFAULT '1 day' CHECK (chunk_interval >= '1 hour'),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
INSERT INTO readings_policy DEFAULT VALUES;

ALTER TABLE devices
    ADD COLUMN online boolean,
    ADD COLUMN status jsonb,
    ADD COLUMN status_at timestamptz;
"""

PLAIN = """
-- No key: ingest only appends, so its inserts never wait on a refresher holding the rows it
-- took (a unique key made every flush wait out a running refresh). Repeats are merged by the
-- refresher.
CREATE TABLE rollup_queue (
    vehicle_id  bigint NOT NULL,
    hour        timestamptz NOT NULL
);

-- Recompute the rollups of up to max_rows queued (vehicle, hour) rows; returns the rows taken.
-- SKIP LOCKED lets several refreshers share the queue; a pair queued again while being
-- refreshed is refreshed again next time.
CREATE FUNCTION wl_refresh_rollup_queue(max_rows int) RETURNS int
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
    -- signal_id = ANY(sig) lets each (vehicle, hour) use the (vehicle, signal, time) index.
    INSERT INTO readings_1m
    SELECT date_trunc('minute', r.time), r.vehicle_id, r.signal_id,
           avg(r.value), min(r.value), max(r.value), count(*)
    FROM unnest(vids, hours) AS b(vehicle_id, hour)
    JOIN readings r ON r.vehicle_id = b.vehicle_id AND r.signal_id = ANY(sig)
         AND r.time >= b.hour AND r.time < b.hour + INTERVAL '1 hour'
    GROUP BY 1, 2, 3
    ON CONFLICT (vehicle_id, signal_id, bucket) DO UPDATE
        SET avg = EXCLUDED.avg, min = EXCLUDED.min, max = EXCLUDED.max, n = EXCLUDED.n;
    INSERT INTO readings_1h
    SELECT b.hour, m.vehicle_id, m.signal_id,
           sum(m.avg * m.n) / sum(m.n), min(m.min), max(m.max), sum(m.n)
    FROM unnest(vids, hours) AS b(vehicle_id, hour)
    JOIN readings_1m m ON m.vehicle_id = b.vehicle_id AND m.signal_id = ANY(sig)
         AND m.bucket >= b.hour AND m.bucket < b.hour + INTERVAL '1 hour'
    GROUP BY 1, 2, 3
    ON CONFLICT (vehicle_id, signal_id, bucket) DO UPDATE
        SET avg = EXCLUDED.avg, min = EXCLUDED.min, max = EXCLUDED.max, n = EXCLUDED.n;
    RETURN taken;
END $$;

-- Retention on plain PostgreSQL: drop the monthly partitions that end before older_than,
-- and the rollups of that time. Returns the partitions dropped.
CREATE FUNCTION wl_drop_partitions(older_than timestamptz) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    part record;
    dropped int := 0;
BEGIN
    FOR part IN
        SELECT c.relname
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'readings'::regclass AND c.relname ~ '^readings_[0-9]{4}_[0-9]{2}$'
    LOOP
        IF to_timestamp(substr(part.relname, 10), 'YYYY_MM') + INTERVAL '1 month' <= older_than
        THEN
            EXECUTE format('DROP TABLE %I', part.relname);
            dropped := dropped + 1;
        END IF;
    END LOOP;
    -- Rows that fell into the default partition (before the oldest monthly one).
    DELETE FROM readings_default WHERE time < older_than;
    DELETE FROM readings_1m WHERE bucket < older_than;
    DELETE FROM readings_1h WHERE bucket < older_than;
    RETURN dropped;
END $$;
"""


def upgrade() -> None:
    op.execute(COMMON)
    if op.get_bind().exec_driver_sql(CHECK_SQL).first() is None:
        op.execute(PLAIN)


def downgrade() -> None:
    op.execute("""
        DROP FUNCTION IF EXISTS wl_drop_partitions(timestamptz);
        DROP FUNCTION IF EXISTS wl_refresh_rollup_queue(int);
        DROP TABLE IF EXISTS readings_policy, rollup_queue, trips, vehicle_dtcs;
        ALTER TABLE devices DROP COLUMN IF EXISTS online, DROP COLUMN IF EXISTS status,
            DROP COLUMN IF EXISTS status_at;
        ALTER TABLE dtc_events DROP COLUMN IF EXISTS kind, DROP COLUMN IF EXISTS device_id;
    """)
