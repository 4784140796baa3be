# SPDX-License-Identifier: MIT
"""Orders: the shop directory, its geographic index, booking slots, dispatch and feedback.

- ``shops`` gains what matching and owners need: city, country and time zone (opening hours
  are local), brands, bays, labour rate
  and currency, rating, on-time rate and response-time statistics, verification status, an
  external reference (the importing directory's id; imports upsert on it) and ``earth``, the
  position as an earthdistance point with a GiST index. The index answers "the k nearest
  shops" by KNN (``ORDER BY earth <-> point``) and "shops within r metres" by ``earth_box``;
  earthdistance and cube ship with PostgreSQL's contrib, so it works on the embedded database
  too (BENCHMARKS.md has the measurement behind the choice).
- ``shop_prices``: a shop's price for each job code of the catalogue.
- ``shop_slots``: bookable slots per bay; a slot is free while ``order_id`` is NULL, and the
  conditional UPDATE that books it cannot double-book.
- ``service_orders`` follows the lifecycle proposed → offered → accepted → scheduled →
  checked_in → in_service → completed, or declined, cancelled, expired. It gains the component
  (the alert kind), urgency, due date, bundle (orders of one vehicle due in the same window
  share one visit), the match's score breakdown, the estimate, the dispatch mode and owner
  consent, the booked slot and the service-level deadlines. A partial unique index allows one
  open order per vehicle and component.
- ``service_order_events`` gains the previous status and the kind of event (a transition, an
  offer, a breach of a service-level timer).
- ``service_offers``: an order offered to a shop; a partial unique index lets only one offer
  of an order be accepted, so of two shops accepting a broadcast at once exactly one wins.
- ``sla_breaches``: each breached deadline once.
- ``service_reports``: what the shop did and measured; ``service_surveys``: the owner's 0-10
  recommendation a day after completion.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE EXTENSION IF NOT EXISTS earthdistance CASCADE;

ALTER TABLE shops
    ADD COLUMN external_ref      text UNIQUE,
    ADD COLUMN city              text,
    ADD COLUMN country           text,
    ADD COLUMN timezone          text NOT NULL DEFAULT 'UTC',
    ADD COLUMN brands            text[] NOT NULL DEFAULT '{}',
    ADD COLUMN bays              int NOT NULL DEFAULT 2 CHECK (bays BETWEEN 1 AND 100),
    ADD COLUMN labour_rate_per_h numeric(8, 2) NOT NULL DEFAULT 90 CHECK (labour_rate_per_h > 0),
    ADD COLUMN currency          text NOT NULL DEFAULT 'EUR' CHECK (currency ~ '^[A-Z]{3}$'),
    ADD COLUMN rating            real CHECK (rating BETWEEN 0 AND 5),
    ADD COLUMN rating_count      int NOT NULL DEFAULT 0 CHECK (rating_count >= 0),
    ADD COLUMN on_time_rate      real CHECK (on_time_rate BETWEEN 0 AND 1),
    ADD COLUMN jobs_completed    int NOT NULL DEFAULT 0,
    ADD COLUMN jobs_on_time      int NOT NULL DEFAULT 0,
    ADD COLUMN response_median_s real CHECK (response_median_s >= 0),
    ADD COLUMN response_p90_s    real CHECK (response_p90_s >= 0),
    ADD COLUMN responses         int NOT NULL DEFAULT 0,
    ADD COLUMN survey_count      int NOT NULL DEFAULT 0,
    ADD COLUMN survey_mean       real CHECK (survey_mean BETWEEN 0 AND 10),
    ADD COLUMN verification      text NOT NULL DEFAULT 'unverified'
        CHECK (verification IN ('unverified', 'pending', 'verified', 'suspended')),
    ADD COLUMN earth             earth GENERATED ALWAYS AS (ll_to_earth(lat, lon)) STORED;
CREATE INDEX shops_earth ON shops USING gist (earth);

CREATE TABLE shop_prices (
    shop_id     bigint NOT NULL REFERENCES shops ON DELETE CASCADE,
    job_code    text NOT NULL,
    price       numeric(10, 2) NOT NULL CHECK (price >= 0),
    labour_h    real CHECK (labour_h >= 0),
    PRIMARY KEY (shop_id, job_code)
);

CREATE TABLE shop_slots (
    slot_id    bigserial PRIMARY KEY,
    shop_id    bigint NOT NULL REFERENCES shops ON DELETE CASCADE,
    bay        int NOT NULL CHECK (bay >= 1),
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL CHECK (ends_at > starts_at),
    order_id   bigint UNIQUE REFERENCES service_orders,
    UNIQUE (shop_id, bay, starts_at)
);
CREATE INDEX shop_slots_free ON shop_slots (shop_id, starts_at) WHERE order_id IS NULL;

UPDATE service_orders SET status = 'accepted' WHERE status = 'confirmed';
ALTER TABLE service_orders DROP CONSTRAINT service_orders_status_check;
ALTER TABLE service_orders
    ADD CONSTRAINT service_orders_status_check CHECK (status IN (
        'proposed', 'offered', 'accepted', 'scheduled', 'checked_in', 'in_service',
        'completed', 'declined', 'cancelled', 'expired')),
    ADD COLUMN component         text,
    ADD COLUMN urgency           text,
    ADD COLUMN due_by            timestamptz,
    ADD COLUMN bundle_id         bigint REFERENCES service_orders,
    ADD COLUMN match             jsonb,
    ADD COLUMN estimate          jsonb,
    ADD COLUMN dispatch_mode     text CHECK (dispatch_mode IN ('auto', 'sequential', 'broadcast')),
    ADD COLUMN consent           text NOT NULL DEFAULT 'propose'
        CHECK (consent IN ('auto_book', 'propose')),
    ADD COLUMN slot_id           bigint REFERENCES shop_slots,
    ADD COLUMN confirm_due_at    timestamptz,
    ADD COLUMN service_due_at    timestamptz,
    ADD COLUMN escalated         boolean NOT NULL DEFAULT false;
UPDATE service_orders o SET component = a.kind FROM alerts a WHERE a.alert_id = o.alert_id;
-- One open order per vehicle and component; older duplicates are closed first.
UPDATE service_orders o SET status = 'cancelled'
WHERE status IN ('proposed', 'accepted', 'scheduled', 'checked_in') AND EXISTS (
    SELECT 1 FROM service_orders n WHERE n.vehicle_id = o.vehicle_id
    AND n.component = o.component AND n.order_id > o.order_id
    AND n.status IN ('proposed', 'accepted', 'scheduled', 'checked_in'));
CREATE UNIQUE INDEX service_orders_one_open ON service_orders (vehicle_id, component)
    WHERE status IN ('proposed', 'offered', 'accepted', 'scheduled', 'checked_in', 'in_service');
CREATE INDEX service_orders_bundle ON service_orders (bundle_id) WHERE bundle_id IS NOT NULL;

ALTER TABLE service_order_events
    ADD COLUMN from_status text,
    ADD COLUMN kind        text NOT NULL DEFAULT 'transition'
        CHECK (kind IN ('transition', 'consent', 'offer', 'sla_breach', 'escalation',
                        'feedback')),
    ADD COLUMN shop_id     bigint;

CREATE TABLE service_offers (
    offer_id      bigserial PRIMARY KEY,
    order_id      bigint NOT NULL REFERENCES service_orders,
    shop_id       bigint NOT NULL REFERENCES shops,
    mode          text NOT NULL CHECK (mode IN ('auto', 'sequential', 'broadcast')),
    rank          int NOT NULL,
    offered_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    responded_at  timestamptz,
    response      text CHECK (response IN ('accepted', 'declined', 'expired', 'withdrawn')),
    UNIQUE (order_id, shop_id)
);
-- First accept wins: a second accepted offer of the same order violates this index.
CREATE UNIQUE INDEX service_offers_one_accepted ON service_offers (order_id)
    WHERE response = 'accepted';
CREATE INDEX service_offers_pending ON service_offers (expires_at) WHERE response IS NULL;

CREATE TABLE sla_breaches (
    order_id     bigint NOT NULL REFERENCES service_orders,
    timer        text NOT NULL CHECK (timer IN ('shop_response', 'appointment_confirmation',
                                               'in_service_overdue')),
    due_at       timestamptz NOT NULL,
    breached_at  timestamptz NOT NULL,
    PRIMARY KEY (order_id, timer, due_at)
);

CREATE TABLE service_reports (
    order_id            bigint PRIMARY KEY REFERENCES service_orders,
    shop_id             bigint NOT NULL REFERENCES shops,
    work_done           text NOT NULL,
    parts               jsonb NOT NULL DEFAULT '[]'::jsonb,
    cost                numeric(10, 2) NOT NULL CHECK (cost >= 0),
    currency            text NOT NULL,
    odometer_km         double precision CHECK (odometer_km >= 0),
    oil_changed         boolean NOT NULL DEFAULT false,
    pad_front_mm        real CHECK (pad_front_mm BETWEEN 0 AND 30),
    pad_rear_mm         real CHECK (pad_rear_mm BETWEEN 0 AND 30),
    on_time             boolean NOT NULL,
    reported_at         timestamptz NOT NULL
);

CREATE TABLE service_surveys (
    order_id     bigint PRIMARY KEY REFERENCES service_orders,
    shop_id      bigint NOT NULL REFERENCES shops,
    offer_at     timestamptz NOT NULL,
    score        smallint CHECK (score BETWEEN 0 AND 10),
    answered_at  timestamptz
);
CREATE INDEX service_surveys_due ON service_surveys (offer_at) WHERE answered_at IS NULL;
"""

DOWNGRADE = """
DROP TABLE IF EXISTS service_surveys, service_reports, sla_breaches, service_offers;
ALTER TABLE service_order_events
    DROP COLUMN IF EXISTS from_status, DROP COLUMN IF EXISTS kind, DROP COLUMN IF EXISTS shop_id;
DROP INDEX IF EXISTS service_orders_one_open;
ALTER TABLE service_orders DROP COLUMN IF EXISTS slot_id;
DROP TABLE IF EXISTS shop_slots, shop_prices;
UPDATE service_orders SET status = CASE status
    WHEN 'offered' THEN 'proposed' WHEN 'in_service' THEN 'checked_in'
    WHEN 'expired' THEN 'cancelled' ELSE status END;
ALTER TABLE service_orders DROP CONSTRAINT service_orders_status_check;
ALTER TABLE service_orders
    ADD CONSTRAINT service_orders_status_check CHECK (status IN (
        'proposed', 'confirmed', 'accepted', 'declined', 'scheduled',
        'checked_in', 'completed', 'cancelled')),
    DROP COLUMN IF EXISTS component, DROP COLUMN IF EXISTS urgency,
    DROP COLUMN IF EXISTS due_by, DROP COLUMN IF EXISTS bundle_id, DROP COLUMN IF EXISTS match,
    DROP COLUMN IF EXISTS estimate, DROP COLUMN IF EXISTS dispatch_mode,
    DROP COLUMN IF EXISTS consent, DROP COLUMN IF EXISTS confirm_due_at,
    DROP COLUMN IF EXISTS service_due_at, DROP COLUMN IF EXISTS escalated;
DROP INDEX IF EXISTS shops_earth;
ALTER TABLE shops
    DROP COLUMN IF EXISTS earth, DROP COLUMN IF EXISTS external_ref, DROP COLUMN IF EXISTS city,
    DROP COLUMN IF EXISTS country, DROP COLUMN IF EXISTS timezone, DROP COLUMN IF EXISTS brands, DROP COLUMN IF EXISTS bays,
    DROP COLUMN IF EXISTS labour_rate_per_h, DROP COLUMN IF EXISTS currency,
    DROP COLUMN IF EXISTS rating, DROP COLUMN IF EXISTS rating_count,
    DROP COLUMN IF EXISTS on_time_rate, DROP COLUMN IF EXISTS jobs_completed,
    DROP COLUMN IF EXISTS jobs_on_time, DROP COLUMN IF EXISTS response_median_s,
    DROP COLUMN IF EXISTS response_p90_s, DROP COLUMN IF EXISTS responses,
    DROP COLUMN IF EXISTS survey_count, DROP COLUMN IF EXISTS survey_mean,
    DROP COLUMN IF EXISTS verification;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
