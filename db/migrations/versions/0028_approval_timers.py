# SPDX-License-Identifier: MIT
"""A fleet's approval waits no longer than its timers: ``sla_breaches`` knows
``approval_reminder`` (the fleet's manager is asked again) and ``approval_expiry`` (the order
was released, undecided, before its slot or after the longest wait; ``orders.waiting``).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07
"""

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

TIMERS = (
    "'shop_response', 'appointment_confirmation', 'in_service_overdue', 'owner_reminder', "
    "'unmatched', 'no_show'"
)

UPGRADE = f"""
ALTER TABLE sla_breaches DROP CONSTRAINT sla_breaches_timer_check;
ALTER TABLE sla_breaches ADD CONSTRAINT sla_breaches_timer_check
    CHECK (timer IN ({TIMERS}, 'approval_reminder', 'approval_expiry'));
"""

DOWNGRADE = f"""
DELETE FROM sla_breaches WHERE timer IN ('approval_reminder', 'approval_expiry');
ALTER TABLE sla_breaches DROP CONSTRAINT sla_breaches_timer_check;
ALTER TABLE sla_breaches ADD CONSTRAINT sla_breaches_timer_check CHECK (timer IN ({TIMERS}));
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
