# SPDX-License-Identifier: MIT
"""Shop scope: the owner decides whether a shop working on the car sees its service history.

- ``vehicles.share_history_with_shops``: false by default, so a shop with an active order sees
  the job's view of the car (identity, odometer, health, trouble codes) and not the reports
  and costs of other shops; the owner (or the fleet) turns it on with ``PATCH /vehicles/{id}``.
- ``service_orders_shop_active``: the shop-scope predicate of ``api.access`` asks "does this
  shop hold an active order for this vehicle" on every vehicle read by shop staff.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from alembic import op

revision = "0013"
# The integrator chains this after 0012; until 0012 exists on this branch, tests run it on 0011.
down_revision = "0012"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE vehicles ADD COLUMN share_history_with_shops boolean NOT NULL DEFAULT false;
CREATE INDEX service_orders_shop_active ON service_orders (shop_id, vehicle_id)
    WHERE status IN ('accepted', 'scheduled', 'checked_in', 'in_service');
"""

DOWNGRADE = """
DROP INDEX IF EXISTS service_orders_shop_active;
ALTER TABLE vehicles DROP COLUMN IF EXISTS share_history_with_shops;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
