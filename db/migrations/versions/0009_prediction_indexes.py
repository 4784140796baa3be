# SPDX-License-Identifier: MIT
"""Indexes for the newest prediction of a vehicle, whatever its history's length.

The evaluator continues from each vehicle's newest prediction per model, and finds the
vehicles with news by comparing their state with their newest prediction's time. With only
``(vehicle_id, model, time)`` both read every prediction a vehicle ever had; these let each be
one index probe.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE INDEX predictions_vehicle_model_id ON predictions (vehicle_id, model, prediction_id DESC);
        CREATE INDEX predictions_vehicle_created ON predictions (vehicle_id, created_at DESC);
    """)


def downgrade() -> None:
    op.execute("""
        DROP INDEX IF EXISTS predictions_vehicle_created;
        DROP INDEX IF EXISTS predictions_vehicle_model_id;
    """)
