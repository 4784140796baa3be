# SPDX-License-Identifier: MIT
"""An order's history may record a reschedule: the visit moved to another slot.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

KINDS = "'transition', 'consent', 'offer', 'sla_breach', 'escalation', 'feedback'"


def upgrade() -> None:
    op.execute(f"""
        ALTER TABLE service_order_events DROP CONSTRAINT service_order_events_kind_check;
        ALTER TABLE service_order_events ADD CONSTRAINT service_order_events_kind_check
            CHECK (kind IN ({KINDS}, 'reschedule'));
    """)


def downgrade() -> None:
    op.execute(f"""
        DELETE FROM service_order_events WHERE kind = 'reschedule';
        ALTER TABLE service_order_events DROP CONSTRAINT service_order_events_kind_check;
        ALTER TABLE service_order_events ADD CONSTRAINT service_order_events_kind_check
            CHECK (kind IN ({KINDS}));
    """)
