# SPDX-License-Identifier: MIT
"""A person's name beside their email.

Someone invited into a role (a fleet's manager, a shop's staff) gives their name when they
accept the invitation in the web app; the admin's console shows it.
Accounts made before, and those made through the API, stay without one (NULL).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07
"""

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE users ADD COLUMN name text CHECK (char_length(name) BETWEEN 1 AND 120);
"""

DOWNGRADE = """
ALTER TABLE users DROP COLUMN IF EXISTS name;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
