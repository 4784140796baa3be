# SPDX-License-Identifier: MIT
"""Used-oil analyses: what a lab measured of a vehicle's oil, and the oil-sample alert.

- ``oil_analyses`` holds each analysis: of the oil drained at a change, or of a sample taken
  part-way through an interval; the life left the lab reports, its uncertainty, and the fleet
  model's predicted consumption at the same point (filled when the analysis is recorded, NULL
  when no learned prediction was there to compare with). The evaluator scales the fleet model
  by each vehicle's own analyses and narrows its band (``predictive.oil_analysis``).
- ``alerts`` may be of kind ``oil_sample`` (tier ``sample``): in a car's first oil interval,
  before any analysis of its own, a sample half-way through the oil's life is what makes the
  change alert both timely and not early. It is asked for once per interval; an index on
  (vehicle, kind, created_at) finds whether it was.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

KINDS = "'oil_change', 'brake_pads', 'trouble_code'"
TIERS = "'change_soon', 'due_now', 'overdue', 'low', 'medium', 'high', 'critical'"


def upgrade() -> None:
    op.execute(f"""
        CREATE TABLE oil_analyses (
            analysis_id            bigserial PRIMARY KEY,
            vehicle_id             bigint NOT NULL REFERENCES vehicles ON DELETE CASCADE,
            sampled_at             timestamptz NOT NULL,
            drained                boolean NOT NULL,
            life_left_pct          double precision NOT NULL
                                   CHECK (life_left_pct BETWEEN 0 AND 100),
            sd_pct                 double precision NOT NULL CHECK (sd_pct BETWEEN 0 AND 50),
            odometer_km            double precision CHECK (odometer_km >= 0),
            predicted_consumed_pct double precision CHECK (predicted_consumed_pct >= 0),
            prediction_id          bigint REFERENCES predictions ON DELETE SET NULL,
            lab                    text,
            recorded_by            text,
            created_at             timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX oil_analyses_vehicle ON oil_analyses (vehicle_id, sampled_at);
        -- Whether a vehicle was already asked for a sample since its last change.
        CREATE INDEX alerts_vehicle_kind_created ON alerts (vehicle_id, kind, created_at);

        ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check;
        ALTER TABLE alerts ADD CONSTRAINT alerts_kind_check
            CHECK (kind IN ({KINDS}, 'oil_sample'));
        ALTER TABLE alerts DROP CONSTRAINT alerts_tier_check;
        ALTER TABLE alerts ADD CONSTRAINT alerts_tier_check CHECK (tier IN ({TIERS}, 'sample'));
    """)


def downgrade() -> None:
    op.execute(f"""
        DELETE FROM alerts WHERE kind = 'oil_sample';
        ALTER TABLE alerts DROP CONSTRAINT alerts_tier_check;
        ALTER TABLE alerts ADD CONSTRAINT alerts_tier_check CHECK (tier IN ({TIERS}));
        ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check;
        ALTER TABLE alerts ADD CONSTRAINT alerts_kind_check CHECK (kind IN ({KINDS}));
        DROP INDEX alerts_vehicle_kind_created;
        DROP TABLE oil_analyses;
    """)
