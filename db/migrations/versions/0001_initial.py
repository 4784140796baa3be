# SPDX-License-Identifier: MIT
"""Initial schema: devices, vehicles, readings, state, trouble codes, predictions, alerts,
shops, service orders and their events, dead letters.

Readings are one row per sample. With TimescaleDB they live in a hypertable with native
compression (segment by vehicle and signal, order by time), continuous aggregates per minute
and per hour, and compression and retention policies. On plain PostgreSQL the same table is
range-partitioned by time (monthly partitions made ahead, a default partition as a safety
net) and the rollups are ordinary tables refreshed by ``wl_refresh_rollups``; the API reads
``readings_1m`` / ``readings_1h`` either way.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from alembic import op

from db.timescale import CHECK_SQL, install_timescaledb

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

CORE = """
CREATE TABLE fleets (
    fleet_id    bigserial PRIMARY KEY,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE vehicles (
    vehicle_id              bigserial PRIMARY KEY,
    vin                     text NOT NULL UNIQUE CHECK (vin ~ '^[A-HJ-NPR-Z0-9]{17}$'),
    fleet_id                bigint REFERENCES fleets,
    make                    text,
    model                   text,
    model_year              int,
    fuel_type               text NOT NULL DEFAULT 'petrol'
                            CHECK (fuel_type IN ('petrol', 'diesel', 'hybrid', 'electric')),
    mass_kg                 real NOT NULL DEFAULT 1400 CHECK (mass_kg > 0),
    owner_name              text,
    owner_email             text,
    home_lat                double precision CHECK (home_lat BETWEEN -90 AND 90),
    home_lon                double precision CHECK (home_lon BETWEEN -180 AND 180),
    -- The last service is the models' starting point: oil life and pad thickness are
    -- integrated forward from what the shop did and measured.
    oil_changed_at          timestamptz,
    oil_changed_odometer_km double precision,
    pads_measured_at        timestamptz,
    pads_measured_odometer_km double precision,
    pad_front_mm            real NOT NULL DEFAULT 12,
    pad_rear_mm             real NOT NULL DEFAULT 12,
    created_at              timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE devices (
    device_id   text PRIMARY KEY CHECK (device_id ~ '^[A-Za-z0-9_.-]{1,64}$'),
    vehicle_id  bigint REFERENCES vehicles,
    firmware    text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE signals (
    signal_id   smallint PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    unit        text NOT NULL
);

-- One row per accepted batch: the primary key drops a redelivered (device, seq) in the same
-- transaction that would have written its readings twice.
CREATE TABLE batches (
    device_id    text NOT NULL,
    seq          bigint NOT NULL,
    vehicle_id   bigint NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    first_time   timestamptz NOT NULL,
    last_time    timestamptz NOT NULL,
    n_samples    int NOT NULL,
    PRIMARY KEY (device_id, seq)
);

CREATE TABLE vehicle_state (
    vehicle_id   bigint PRIMARY KEY REFERENCES vehicles,
    last_seen    timestamptz NOT NULL,
    odometer_km  double precision,
    latest       jsonb NOT NULL DEFAULT '{}'::jsonb,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE dtc_events (
    id          bigserial PRIMARY KEY,
    vehicle_id  bigint NOT NULL REFERENCES vehicles,
    code        text NOT NULL CHECK (code ~ '^[PCBU][0-9A-F]{4}$'),
    event       text NOT NULL CHECK (event IN ('appeared', 'cleared')),
    time        timestamptz NOT NULL
);
CREATE INDEX dtc_events_vehicle_time ON dtc_events (vehicle_id, time DESC);

CREATE TABLE predictions (
    prediction_id  bigserial PRIMARY KEY,
    vehicle_id     bigint NOT NULL REFERENCES vehicles,
    model          text NOT NULL,
    model_version  text NOT NULL,
    time           timestamptz NOT NULL,
    value          double precision NOT NULL,
    unit           text NOT NULL,
    remaining_km   double precision,
    evidence       jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX predictions_vehicle_model_time ON predictions (vehicle_id, model, time DESC);

CREATE TABLE alerts (
    alert_id       bigserial PRIMARY KEY,
    vehicle_id     bigint NOT NULL REFERENCES vehicles,
    kind           text NOT NULL CHECK (kind IN ('oil_change', 'brake_pads', 'trouble_code')),
    severity       text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    message        text NOT NULL,
    prediction_id  bigint REFERENCES predictions,
    status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    resolved_at    timestamptz
);
-- At most one unresolved alert per vehicle and kind: crossing a threshold raises one alert.
CREATE UNIQUE INDEX alerts_one_unresolved ON alerts (vehicle_id, kind) WHERE status <> 'resolved';

CREATE TABLE shops (
    shop_id       bigserial PRIMARY KEY,
    name          text NOT NULL,
    address       text,
    phone         text,
    lat           double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon           double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    capabilities  text[] NOT NULL DEFAULT '{}',
    hours         jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE service_orders (
    order_id         bigserial PRIMARY KEY,
    vehicle_id       bigint NOT NULL REFERENCES vehicles,
    alert_id         bigint UNIQUE REFERENCES alerts,
    shop_id          bigint REFERENCES shops,
    status           text NOT NULL DEFAULT 'proposed' CHECK (status IN (
                         'proposed', 'confirmed', 'accepted', 'declined', 'scheduled',
                         'checked_in', 'completed', 'cancelled')),
    vin              text NOT NULL,
    odometer_km      double precision,
    issue            text NOT NULL,
    evidence         jsonb NOT NULL DEFAULT '{}'::jsonb,
    job_code         text NOT NULL,
    job_description  text NOT NULL,
    parts            jsonb NOT NULL DEFAULT '[]'::jsonb,
    distance_km      double precision,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX service_orders_vehicle ON service_orders (vehicle_id);
CREATE INDEX service_orders_shop ON service_orders (shop_id, status);

CREATE TABLE service_order_events (
    id        bigserial PRIMARY KEY,
    order_id  bigint NOT NULL REFERENCES service_orders,
    status    text NOT NULL,
    actor     text NOT NULL,
    note      text,
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX service_order_events_order ON service_order_events (order_id, at);

CREATE TABLE dead_letters (
    id            bigserial PRIMARY KEY,
    received_at   timestamptz NOT NULL DEFAULT now(),
    topic         text NOT NULL,
    reason        text NOT NULL,
    payload       bytea NOT NULL,
    payload_size  int NOT NULL
);
CREATE INDEX dead_letters_received ON dead_letters (received_at DESC);

CREATE TABLE readings (
    time        timestamptz NOT NULL,
    vehicle_id  bigint NOT NULL,
    signal_id   smallint NOT NULL,
    value       double precision NOT NULL
) {partition_clause};
CREATE INDEX readings_vehicle_signal_time ON readings (vehicle_id, signal_id, time DESC);
"""

TIMESCALE = """
SELECT create_hypertable('readings', by_range('time', INTERVAL '1 day'));
ALTER TABLE readings SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'vehicle_id, signal_id',
    timescaledb.compress_orderby = 'time DESC'
);
SELECT add_compression_policy('readings', compress_after => INTERVAL '7 days');
SELECT add_retention_policy('readings', drop_after => INTERVAL '400 days');

CREATE MATERIALIZED VIEW readings_1m WITH (timescaledb.continuous) AS
SELECT time_bucket(INTERVAL '1 minute', time) AS bucket, vehicle_id, signal_id,
       avg(value) AS avg, min(value) AS min, max(value) AS max, count(*) AS n
FROM readings GROUP BY bucket, vehicle_id, signal_id WITH NO DATA;
SELECT add_continuous_aggregate_policy('readings_1m', start_offset => INTERVAL '2 days',
       end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '1 minute');

CREATE MATERIALIZED VIEW readings_1h WITH (timescaledb.continuous) AS
SELECT time_bucket(INTERVAL '1 hour', time) AS bucket, vehicle_id, signal_id,
       avg(value) AS avg, min(value) AS min, max(value) AS max, count(*) AS n
FROM readings GROUP BY bucket, vehicle_id, signal_id WITH NO DATA;
SELECT add_continuous_aggregate_policy('readings_1h', start_offset => INTERVAL '30 days',
       end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '30 minutes');
"""

PLAIN = """
CREATE TABLE readings_default PARTITION OF readings DEFAULT;

-- Monthly partitions from a year back to three months ahead; ingest calls this again to stay
-- ahead of the clock.
CREATE FUNCTION wl_ensure_partitions(from_ts timestamptz, to_ts timestamptz) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    m timestamptz := date_trunc('month', from_ts);
    made int := 0;
    part text;
BEGIN
    WHILE m < to_ts LOOP
        part := format('readings_%s', to_char(m, 'YYYY_MM'));
        IF to_regclass(part) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF readings FOR VALUES FROM (%L) TO (%L)',
                           part, m, m + INTERVAL '1 month');
            made := made + 1;
        END IF;
        m := m + INTERVAL '1 month';
    END LOOP;
    RETURN made;
END $$;
SELECT wl_ensure_partitions(now() - INTERVAL '12 months', now() + INTERVAL '3 months');

CREATE TABLE readings_1m (
    bucket timestamptz NOT NULL, vehicle_id bigint NOT NULL, signal_id smallint NOT NULL,
    avg double precision, min double precision, max double precision, n bigint,
    PRIMARY KEY (vehicle_id, signal_id, bucket)
);
CREATE TABLE readings_1h (LIKE readings_1m INCLUDING ALL);

-- Recompute the rollup buckets touching [from_ts, to_ts); idempotent.
CREATE FUNCTION wl_refresh_rollups(from_ts timestamptz, to_ts timestamptz) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO readings_1m
    SELECT date_trunc('minute', time), vehicle_id, signal_id, avg(value), min(value), max(value), count(*)
    FROM readings WHERE time >= date_trunc('minute', from_ts) AND time < to_ts
    GROUP BY 1, 2, 3
    ON CONFLICT (vehicle_id, signal_id, bucket) DO UPDATE
        SET avg = EXCLUDED.avg, min = EXCLUDED.min, max = EXCLUDED.max, n = EXCLUDED.n;
    INSERT INTO readings_1h
    SELECT date_trunc('hour', time), vehicle_id, signal_id, avg(value), min(value), max(value), count(*)
    FROM readings WHERE time >= date_trunc('hour', from_ts) AND time < to_ts
    GROUP BY 1, 2, 3
    ON CONFLICT (vehicle_id, signal_id, bucket) DO UPDATE
        SET avg = EXCLUDED.avg, min = EXCLUDED.min, max = EXCLUDED.max, n = EXCLUDED.n;
$$;
"""


def upgrade() -> None:
    # Available but not loadable (not preloaded): plain PostgreSQL, with a log line saying why.
    timescale = install_timescaledb(op.get_bind())
    op.execute(CORE.replace("{partition_clause}", "" if timescale else "PARTITION BY RANGE (time)"))
    op.execute(TIMESCALE if timescale else PLAIN)


def downgrade() -> None:
    if op.get_bind().exec_driver_sql(CHECK_SQL).first() is not None:
        # One continuous aggregate per statement, each with its refresh policy, before the
        # hypertable they read: dropping that first would cascade to their internal views,
        # which TimescaleDB refuses. The hypertable's own jobs go with it.
        op.execute("""
            SELECT remove_continuous_aggregate_policy('readings_1h', if_exists => true);
            SELECT remove_continuous_aggregate_policy('readings_1m', if_exists => true);
            DROP MATERIALIZED VIEW IF EXISTS readings_1h;
            DROP MATERIALIZED VIEW IF EXISTS readings_1m;
            SELECT remove_compression_policy('readings', if_exists => true);
            SELECT remove_retention_policy('readings', if_exists => true);
        """)
    else:
        op.execute("DROP TABLE IF EXISTS readings_1h, readings_1m")
    op.execute("""
        DROP FUNCTION IF EXISTS wl_refresh_rollups(timestamptz, timestamptz);
        DROP FUNCTION IF EXISTS wl_ensure_partitions(timestamptz, timestamptz);
        DROP TABLE IF EXISTS readings, dead_letters, service_order_events, service_orders, shops,
            alerts, predictions, dtc_events, vehicle_state, batches, signals, devices, vehicles,
            fleets CASCADE;
    """)
