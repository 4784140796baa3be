# SPDX-License-Identifier: MIT
"""A lifecycle that stays true: the appointment on the order, rebooking, dismissals, reminders.

- ``service_orders`` gains the appointment: ``appointment_starts_at``, ``appointment_ends_at``
  and ``appointment_bay`` (the shop is ``shop_id``), written when a slot is booked or moved and
  cleared when it is released; existing bookings are filled from their slot.
- An alert may have several orders over time: one that ended declined, cancelled or expired
  leaves the alert to a new order (a rebooking). The unique ``alert_id`` becomes a partial
  unique index over the orders that still stand (open or completed).
- ``alerts`` gains ``dismissed_at``, ``dismissed_by`` and ``dismissed_reason``: the owner's
  side may resolve an alert without a service, saying why.
- ``service_order_events`` may record a ``reminder`` (the owner is asked again), a ``rebook``
  and a ``dismissal``; ``sla_breaches`` knows the timers that move waiting orders on
  (``owner_reminder``, ``unmatched``, ``no_show``).

Downgrading keeps, of several orders of one alert, the newest one's link to the alert.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

KINDS = "'transition', 'consent', 'offer', 'sla_breach', 'escalation', 'feedback', 'reschedule'"
TIMERS = "'shop_response', 'appointment_confirmation', 'in_service_overdue'"

UPGRADE = f"""
ALTER TABLE service_orders
    ADD COLUMN appointment_starts_at timestamptz,
    ADD COLUMN appointment_ends_at   timestamptz,
    ADD COLUMN appointment_bay       int CHECK (appointment_bay >= 1);
UPDATE service_orders o SET appointment_starts_at = s.starts_at,
    appointment_ends_at = s.ends_at, appointment_bay = s.bay
    FROM shop_slots s WHERE s.slot_id = o.slot_id;

ALTER TABLE service_orders DROP CONSTRAINT service_orders_alert_id_key;
CREATE UNIQUE INDEX service_orders_one_standing_per_alert ON service_orders (alert_id)
    WHERE status NOT IN ('declined', 'cancelled', 'expired');
CREATE INDEX service_orders_alert ON service_orders (alert_id);

ALTER TABLE alerts
    ADD COLUMN dismissed_at     timestamptz,
    ADD COLUMN dismissed_by     text,
    ADD COLUMN dismissed_reason text;

ALTER TABLE service_order_events DROP CONSTRAINT service_order_events_kind_check;
ALTER TABLE service_order_events ADD CONSTRAINT service_order_events_kind_check
    CHECK (kind IN ({KINDS}, 'reminder', 'rebook', 'dismissal'));
ALTER TABLE sla_breaches DROP CONSTRAINT sla_breaches_timer_check;
ALTER TABLE sla_breaches ADD CONSTRAINT sla_breaches_timer_check
    CHECK (timer IN ({TIMERS}, 'owner_reminder', 'unmatched', 'no_show'));
"""

DOWNGRADE = f"""
DELETE FROM sla_breaches WHERE timer IN ('owner_reminder', 'unmatched', 'no_show');
ALTER TABLE sla_breaches DROP CONSTRAINT sla_breaches_timer_check;
ALTER TABLE sla_breaches ADD CONSTRAINT sla_breaches_timer_check CHECK (timer IN ({TIMERS}));
DELETE FROM service_order_events WHERE kind IN ('reminder', 'rebook', 'dismissal');
ALTER TABLE service_order_events DROP CONSTRAINT service_order_events_kind_check;
ALTER TABLE service_order_events ADD CONSTRAINT service_order_events_kind_check
    CHECK (kind IN ({KINDS}));
ALTER TABLE alerts DROP COLUMN IF EXISTS dismissed_at, DROP COLUMN IF EXISTS dismissed_by,
    DROP COLUMN IF EXISTS dismissed_reason;
DROP INDEX IF EXISTS service_orders_alert;
DROP INDEX IF EXISTS service_orders_one_standing_per_alert;
UPDATE service_orders o SET alert_id = NULL WHERE EXISTS (
    SELECT 1 FROM service_orders n WHERE n.alert_id = o.alert_id AND n.order_id > o.order_id);
ALTER TABLE service_orders ADD CONSTRAINT service_orders_alert_id_key UNIQUE (alert_id);
ALTER TABLE service_orders DROP COLUMN IF EXISTS appointment_starts_at,
    DROP COLUMN IF EXISTS appointment_ends_at, DROP COLUMN IF EXISTS appointment_bay;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
