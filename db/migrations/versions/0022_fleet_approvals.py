# SPDX-License-Identifier: MIT
"""The fleet's approval policy, an order's approval, and the weekly summary's recipients.

- ``fleet_approval_policies``: per fleet, the cost limit (in the fleet's currency) under which
  its vehicles' orders are approved automatically; above it (or priced in another currency, or
  not priced) an order waits for the fleet's manager.
- ``service_orders`` gains ``approval`` (NULL: no policy applies; ``auto``, ``pending``,
  ``approved``, ``rejected``) with who decided, when and their note; the history records each
  step as an ``approval`` event.
- ``fleet_report_recipients``: who receives the fleet's weekly summary by mail;
  ``fleet_weekly_summaries``: the weeks already sent (at most one summary per fleet and week).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

KINDS = (
    "'transition', 'consent', 'offer', 'sla_breach', 'escalation', 'feedback', 'reschedule', "
    "'reminder', 'rebook', 'dismissal'"
)

UPGRADE = f"""
CREATE TABLE fleet_approval_policies (
    fleet_id     bigint PRIMARY KEY REFERENCES fleets ON DELETE CASCADE,
    limit_amount numeric(10, 2) NOT NULL CHECK (limit_amount >= 0),
    currency     text NOT NULL CHECK (currency ~ '^[A-Z]{{3}}$'),
    updated_at   timestamptz NOT NULL,
    updated_by   text NOT NULL
);

ALTER TABLE service_orders
    ADD COLUMN approval      text CHECK (approval IN ('auto', 'pending', 'approved', 'rejected')),
    ADD COLUMN approval_by   text,
    ADD COLUMN approval_at   timestamptz,
    ADD COLUMN approval_note text CHECK (char_length(approval_note) <= 500);
CREATE INDEX service_orders_pending_approval ON service_orders (vehicle_id)
    WHERE approval = 'pending';

ALTER TABLE service_order_events DROP CONSTRAINT service_order_events_kind_check;
ALTER TABLE service_order_events ADD CONSTRAINT service_order_events_kind_check
    CHECK (kind IN ({KINDS}, 'approval'));

CREATE TABLE fleet_report_recipients (
    fleet_id bigint NOT NULL REFERENCES fleets ON DELETE CASCADE,
    email    text NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
    PRIMARY KEY (fleet_id, email)
);

CREATE TABLE fleet_weekly_summaries (
    fleet_id   bigint NOT NULL REFERENCES fleets ON DELETE CASCADE,
    week_start date NOT NULL,
    sent_at    timestamptz NOT NULL,
    recipients int NOT NULL CHECK (recipients >= 0),
    PRIMARY KEY (fleet_id, week_start)
);
"""

DOWNGRADE = f"""
DROP TABLE IF EXISTS fleet_weekly_summaries;
DROP TABLE IF EXISTS fleet_report_recipients;
DELETE FROM service_order_events WHERE kind = 'approval';
ALTER TABLE service_order_events DROP CONSTRAINT service_order_events_kind_check;
ALTER TABLE service_order_events ADD CONSTRAINT service_order_events_kind_check
    CHECK (kind IN ({KINDS}));
DROP INDEX IF EXISTS service_orders_pending_approval;
ALTER TABLE service_orders DROP COLUMN IF EXISTS approval_note,
    DROP COLUMN IF EXISTS approval_at, DROP COLUMN IF EXISTS approval_by,
    DROP COLUMN IF EXISTS approval;
DROP TABLE IF EXISTS fleet_approval_policies;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
