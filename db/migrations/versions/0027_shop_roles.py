# SPDX-License-Identifier: MIT
"""Shop roles: each shop staff account is the shop's manager or a technician.

Managers edit the shop's profile (hours, bays, prices...) and their colleagues' roles;
technicians see the profile and do everything on the inbox, calendar and job cards.
Existing shop staff become managers, so nobody loses a right they had. An invitation of shop
staff carries the role its invitee will have. The role is set exactly when the account (or
invitation) is shop staff's.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07
"""

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE users ADD COLUMN shop_role text CHECK (shop_role IN ('manager', 'technician'));
UPDATE users SET shop_role = 'manager' WHERE role = 'shop_staff';
ALTER TABLE users ADD CONSTRAINT users_shop_role_of_staff
    CHECK ((role = 'shop_staff') = (shop_role IS NOT NULL));
ALTER TABLE invitations ADD COLUMN shop_role text
    CHECK (shop_role IN ('manager', 'technician'));
UPDATE invitations SET shop_role = 'manager' WHERE role = 'shop_staff';
ALTER TABLE invitations ADD CONSTRAINT invitations_shop_role_of_staff
    CHECK ((role = 'shop_staff') = (shop_role IS NOT NULL));
"""

DOWNGRADE = """
ALTER TABLE invitations DROP CONSTRAINT IF EXISTS invitations_shop_role_of_staff;
ALTER TABLE invitations DROP COLUMN IF EXISTS shop_role;
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_shop_role_of_staff;
ALTER TABLE users DROP COLUMN IF EXISTS shop_role;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
