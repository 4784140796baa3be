# SPDX-License-Identifier: MIT
"""Evaluator: shard leases for several evaluators, alert tiers with evidence, trouble-code
evaluation marks.

- ``evaluator_shards``: 64 shards; a vehicle belongs to shard ``vehicle_id % 64`` (the same
  expression in SQL and Python). An evaluator claims free or expired shards with an atomic
  ``UPDATE … RETURNING``, renews them before ``expires_at`` and releases them when it stops;
  a crashed evaluator's shards expire and are taken over.
- ``evaluators``: who is alive (heartbeat, expiry), so each takes a fair share of the shards.
- ``alerts`` gains ``tier`` (oil and pads: change_soon, due_now, overdue; trouble codes: the
  worst code's urgency low, medium, high, critical) and ``evidence``. The unique index allows
  one unresolved alert per (vehicle, kind, tier): a more severe tier raises one more alert.
- ``evaluator_dtc_marks``: the ``vehicle_dtcs.updated_at`` the evaluator last turned into
  alerts, so a change of codes is evaluated once.

Plain SQL: the same on PostgreSQL and TimescaleDB.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE evaluator_shards (
    shard       int PRIMARY KEY CHECK (shard >= 0),
    owner       text,
    expires_at  timestamptz NOT NULL DEFAULT '-infinity',
    heartbeat   timestamptz
);
INSERT INTO evaluator_shards (shard) SELECT generate_series(0, 63);

CREATE TABLE evaluators (
    owner       text PRIMARY KEY,
    started_at  timestamptz NOT NULL DEFAULT now(),
    heartbeat   timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);

CREATE TABLE evaluator_dtc_marks (
    vehicle_id  bigint PRIMARY KEY REFERENCES vehicles,
    updated_at  timestamptz NOT NULL
);

ALTER TABLE alerts
    ADD COLUMN tier text NOT NULL DEFAULT 'change_soon' CHECK (tier IN (
        'change_soon', 'due_now', 'overdue', 'low', 'medium', 'high', 'critical')),
    ADD COLUMN evidence jsonb NOT NULL DEFAULT '{}'::jsonb;
-- Alerts raised before tiers: critical ones were at the 'due now' thresholds.
UPDATE alerts SET tier = CASE
    WHEN kind = 'trouble_code' THEN CASE severity WHEN 'critical' THEN 'critical'
                                                  WHEN 'warning' THEN 'medium' ELSE 'low' END
    WHEN severity = 'critical' THEN 'due_now' ELSE 'change_soon' END;
DROP INDEX alerts_one_unresolved;
-- At most one unresolved alert per vehicle, kind and tier.
CREATE UNIQUE INDEX alerts_one_unresolved_tier ON alerts (vehicle_id, kind, tier)
    WHERE status <> 'resolved';
"""

DOWNGRADE = """
DROP INDEX IF EXISTS alerts_one_unresolved_tier;
-- Keep the newest (the most severe tier) unresolved alert per (vehicle, kind).
UPDATE alerts a SET status = 'resolved', resolved_at = now()
WHERE status <> 'resolved' AND EXISTS (
    SELECT 1 FROM alerts b WHERE b.vehicle_id = a.vehicle_id AND b.kind = a.kind
    AND b.status <> 'resolved' AND b.alert_id > a.alert_id);
CREATE UNIQUE INDEX alerts_one_unresolved ON alerts (vehicle_id, kind) WHERE status <> 'resolved';
ALTER TABLE alerts DROP COLUMN IF EXISTS tier, DROP COLUMN IF EXISTS evidence;
DROP TABLE IF EXISTS evaluator_dtc_marks, evaluators, evaluator_shards;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
