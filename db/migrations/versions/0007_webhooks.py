# SPDX-License-Identifier: MIT
"""Webhooks: a transactional outbox filled by triggers, subscriptions, deliveries and their log.

- ``outbox``: one row per event, written by triggers in the same transaction as the change
  it reports, so an event exists if and only if its change committed: ``alert.raised`` (an
  alert inserted), ``order.created`` and ``order.status_changed`` (a service order inserted,
  or its status updated). Each row carries the vehicle, its fleet and the order's shop, which
  is how subscriptions of a fleet or a shop find their events. A trigger also NOTIFYs
  ``wl_outbox`` so the dispatcher wakes at once.
- ``webhook_subscriptions``: a receiver URL, the events it wants, its signing secret, and its
  tenant (a fleet, a shop, or neither: everything, for an administrator's integration).
- ``webhook_deliveries``: one per (subscription, event), its state and schedule;
  ``webhook_attempts`` is the delivery log, one row per HTTP attempt.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UP = """
CREATE TABLE outbox (
    event_id     bigserial PRIMARY KEY,
    event_type   text NOT NULL,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    vehicle_id   bigint,
    fleet_id     bigint,
    shop_id      bigint,
    payload      jsonb NOT NULL,
    fanned_out_at timestamptz
);
CREATE INDEX outbox_pending ON outbox (event_id) WHERE fanned_out_at IS NULL;

CREATE TABLE webhook_subscriptions (
    subscription_id  bigserial PRIMARY KEY,
    url              text NOT NULL CHECK (url ~ '^https?://'),
    event_types      text[] NOT NULL CHECK (cardinality(event_types) > 0),
    secret           text NOT NULL,
    fleet_id         bigint REFERENCES fleets,
    shop_id          bigint REFERENCES shops,
    description      text,
    active           boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    disabled_reason  text,
    CHECK (fleet_id IS NULL OR shop_id IS NULL)
);

CREATE TABLE webhook_deliveries (
    delivery_id      bigserial PRIMARY KEY,
    subscription_id  bigint NOT NULL REFERENCES webhook_subscriptions ON DELETE CASCADE,
    event_id         bigint NOT NULL REFERENCES outbox,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         int NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';

CREATE TABLE webhook_attempts (
    delivery_id  bigint NOT NULL REFERENCES webhook_deliveries ON DELETE CASCADE,
    attempt      int NOT NULL,
    at           timestamptz NOT NULL,
    status_code  int,
    duration_ms  double precision NOT NULL,
    error        text,
    PRIMARY KEY (delivery_id, attempt)
);

CREATE FUNCTION wl_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('wl_outbox', NEW.event_id::text);
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH ROW EXECUTE FUNCTION wl_outbox_notify();

CREATE FUNCTION wl_alert_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox (event_type, vehicle_id, fleet_id, payload)
    SELECT 'alert.raised', NEW.vehicle_id, v.fleet_id, jsonb_build_object(
        'alert_id', NEW.alert_id, 'vehicle_id', NEW.vehicle_id, 'vin', v.vin,
        'kind', NEW.kind, 'tier', NEW.tier, 'severity', NEW.severity,
        'message', NEW.message, 'raised_at', NEW.created_at)
    FROM vehicles v WHERE v.vehicle_id = NEW.vehicle_id;
    RETURN NULL;
END $$;
CREATE TRIGGER alert_event AFTER INSERT ON alerts
    FOR EACH ROW EXECUTE FUNCTION wl_alert_event();

CREATE FUNCTION wl_order_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox (event_type, vehicle_id, fleet_id, shop_id, payload)
    SELECT CASE WHEN TG_OP = 'INSERT' THEN 'order.created' ELSE 'order.status_changed' END,
           NEW.vehicle_id, v.fleet_id, NEW.shop_id, jsonb_build_object(
        'order_id', NEW.order_id, 'vehicle_id', NEW.vehicle_id, 'vin', NEW.vin,
        'shop_id', NEW.shop_id, 'status', NEW.status,
        'previous_status', CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END,
        'issue', NEW.issue, 'job_code', NEW.job_code, 'at', now())
    FROM vehicles v WHERE v.vehicle_id = NEW.vehicle_id;
    RETURN NULL;
END $$;
CREATE TRIGGER order_created_event AFTER INSERT ON service_orders
    FOR EACH ROW EXECUTE FUNCTION wl_order_event();
CREATE TRIGGER order_status_event AFTER UPDATE OF status ON service_orders
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION wl_order_event();
"""

DOWN = """
DROP TRIGGER IF EXISTS order_status_event ON service_orders;
DROP TRIGGER IF EXISTS order_created_event ON service_orders;
DROP TRIGGER IF EXISTS alert_event ON alerts;
DROP FUNCTION IF EXISTS wl_order_event(), wl_alert_event(), wl_outbox_notify() CASCADE;
DROP TABLE IF EXISTS webhook_attempts, webhook_deliveries, webhook_subscriptions, outbox;
"""


def upgrade() -> None:
    op.execute(UP)


def downgrade() -> None:
    op.execute(DOWN)
