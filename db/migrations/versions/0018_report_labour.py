# SPDX-License-Identifier: MIT
"""The service report's labour hours and the technician who did the work.

The shop's job card records them with the report (``orders.feedback.WorkReport``'s optional
``labour_h`` and ``technician``); reports made before stay without them (NULL).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE service_reports
    ADD COLUMN labour_h   real CHECK (labour_h BETWEEN 0 AND 1000),
    ADD COLUMN technician text CHECK (char_length(technician) <= 120);
"""

DOWNGRADE = """
ALTER TABLE service_reports DROP COLUMN IF EXISTS technician, DROP COLUMN IF EXISTS labour_h;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
