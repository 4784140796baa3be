# SPDX-License-Identifier: MIT
"""Notifications to people: channels, what goes where, quiet hours, deliveries and their log,
the links in mail, and the demo's mailbox.

- ``outbox.notified_at``: the notification dispatcher's own mark, beside the webhooks'
  ``fanned_out_at``, so each reads every event once without waiting for the other. Events
  already in the outbox are marked: nobody is told today about last month.
- ``order.rescheduled``: a new outbox event, written by a trigger when an order's history
  records a reschedule (the status stays ``scheduled``, so ``order.status_changed`` is silent).
  ``survey.offered`` is written by the dispatcher when a survey's ``offer_at`` comes; the
  partial unique index makes that once per order.
- ``notify_channels``: where a user is reached: their account's email (one row, kind
  ``email``) or an Apprise URL (kind ``apprise``). ``notify_muted``: (channel, event kind)
  pairs turned off (by Settings or a mail's unsubscribe link); everything else is on.
- ``notify_preferences``: the user's time zone and quiet hours (local times; a window may
  cross midnight).
- ``notify_deliveries``: at most one per (event, user, channel), its state and schedule like
  webhook deliveries; ``notify_attempts`` is the delivery log.
- ``notify_links``: the tokens of links in mail (to open an order or a car, signing in once;
  to unsubscribe), kept as SHA-256 like sign-in links.
- ``demo_mail``: what the demo's embedded SMTP server received, one row per Message-ID.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE outbox ADD COLUMN notified_at timestamptz;
UPDATE outbox SET notified_at = now();
CREATE INDEX outbox_unnotified ON outbox (event_id) WHERE notified_at IS NULL;
CREATE UNIQUE INDEX outbox_survey_once ON outbox ((payload->>'order_id'))
    WHERE event_type = 'survey.offered';

CREATE FUNCTION wl_reschedule_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox (event_type, vehicle_id, fleet_id, shop_id, payload)
    SELECT 'order.rescheduled', o.vehicle_id, v.fleet_id, o.shop_id, jsonb_build_object(
        'order_id', o.order_id, 'vehicle_id', o.vehicle_id, 'vin', o.vin,
        'shop_id', o.shop_id, 'status', o.status, 'note', NEW.note, 'at', NEW.at)
    FROM service_orders o JOIN vehicles v USING (vehicle_id) WHERE o.order_id = NEW.order_id;
    RETURN NULL;
END $$;
CREATE TRIGGER order_reschedule_event AFTER INSERT ON service_order_events
    FOR EACH ROW WHEN (NEW.kind = 'reschedule') EXECUTE FUNCTION wl_reschedule_event();

CREATE TABLE notify_channels (
    channel_id  bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('email', 'apprise')),
    url         text,
    label       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'email') = (url IS NULL))
);
CREATE UNIQUE INDEX notify_channels_one_email ON notify_channels (user_id) WHERE kind = 'email';
CREATE UNIQUE INDEX notify_channels_url ON notify_channels (user_id, url) WHERE url IS NOT NULL;

CREATE TABLE notify_muted (
    channel_id  bigint NOT NULL REFERENCES notify_channels ON DELETE CASCADE,
    event_kind  text NOT NULL,
    muted_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, event_kind)
);

CREATE TABLE notify_preferences (
    user_id      bigint PRIMARY KEY REFERENCES users ON DELETE CASCADE,
    time_zone    text NOT NULL DEFAULT 'UTC',
    quiet_from   time,
    quiet_until  time,
    CHECK ((quiet_from IS NULL) = (quiet_until IS NULL))
);

CREATE TABLE notify_deliveries (
    delivery_id      bigserial PRIMARY KEY,
    event_id         bigint NOT NULL REFERENCES outbox,
    user_id          bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    channel_id       bigint NOT NULL REFERENCES notify_channels ON DELETE CASCADE,
    event_kind       text NOT NULL,
    urgent           boolean NOT NULL DEFAULT false,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'delivered', 'failed', 'skipped')),
    attempts         int NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    held_until       timestamptz,
    delivered_at     timestamptz,
    message_id       text NOT NULL UNIQUE,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, user_id, channel_id)
);
CREATE INDEX notify_deliveries_due ON notify_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX notify_deliveries_user ON notify_deliveries (user_id, delivery_id);

CREATE TABLE notify_attempts (
    delivery_id  bigint NOT NULL REFERENCES notify_deliveries ON DELETE CASCADE,
    attempt      int NOT NULL,
    at           timestamptz NOT NULL,
    duration_ms  double precision NOT NULL,
    error        text,
    PRIMARY KEY (delivery_id, attempt)
);

CREATE TABLE notify_links (
    token_hash   bytea PRIMARY KEY,
    purpose      text NOT NULL CHECK (purpose IN ('open', 'unsubscribe')),
    user_id      bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    channel_id   bigint REFERENCES notify_channels ON DELETE CASCADE,
    event_kind   text,
    target       text,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);
CREATE INDEX notify_links_user ON notify_links (user_id);

CREATE TABLE demo_mail (
    mail_id      bigserial PRIMARY KEY,
    message_id   text NOT NULL UNIQUE,
    received_at  timestamptz NOT NULL,
    mail_from    text NOT NULL,
    rcpt_to      text[] NOT NULL,
    subject      text NOT NULL,
    raw          bytea NOT NULL,
    copies       int NOT NULL DEFAULT 1
);
CREATE INDEX demo_mail_rcpt ON demo_mail USING gin (rcpt_to);
"""

DOWNGRADE = """
DROP TABLE IF EXISTS demo_mail, notify_links, notify_attempts, notify_deliveries,
    notify_preferences, notify_muted, notify_channels;
DROP TRIGGER IF EXISTS order_reschedule_event ON service_order_events;
DROP FUNCTION IF EXISTS wl_reschedule_event();
DELETE FROM outbox WHERE event_type IN ('order.rescheduled', 'survey.offered');
DROP INDEX IF EXISTS outbox_survey_once;
DROP INDEX IF EXISTS outbox_unnotified;
ALTER TABLE outbox DROP COLUMN IF EXISTS notified_at;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
