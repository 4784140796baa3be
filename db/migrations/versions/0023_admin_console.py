# SPDX-License-Identifier: MIT
"""The admin's console: rejecting a shop's application, and what an admin action did.

- ``shops.rejected_at`` / ``rejected_by`` / ``rejection_reason``: an admin turns an application
  down with a reason (``verification`` gains ``rejected``). A rejected shop keeps
  ``verified_at`` NULL, so matching (``orders.matching.offered``) never offers it an order.
  Shops already here keep their verification as it is (revision 0011 verified them all, and
  ``verified_at`` still defaults to now() for shops the operator inserts).
- ``audit_log.detail``: what an admin's action in the web console did, in a line ("verified
  shop 12", "disabled user 7: left the company"), beside the route, object and status the
  audit middleware records for every write.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE shops
    ADD COLUMN rejected_at       timestamptz,
    ADD COLUMN rejected_by       bigint REFERENCES users ON DELETE SET NULL,
    ADD COLUMN rejection_reason  text CHECK (char_length(rejection_reason) <= 500),
    DROP CONSTRAINT shops_verification_check,
    ADD CONSTRAINT shops_verification_check
        CHECK (verification IN ('unverified', 'pending', 'verified', 'suspended', 'rejected'));
CREATE INDEX shops_waiting ON shops (shop_id) WHERE verified_at IS NULL AND rejected_at IS NULL;

ALTER TABLE audit_log ADD COLUMN detail text CHECK (char_length(detail) <= 1000);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id, id DESC);
"""

DOWNGRADE = """
DROP INDEX IF EXISTS audit_log_object;
ALTER TABLE audit_log DROP COLUMN IF EXISTS detail;
DROP INDEX IF EXISTS shops_waiting;
UPDATE shops SET verification = 'unverified' WHERE verification = 'rejected';
ALTER TABLE shops
    DROP CONSTRAINT shops_verification_check,
    ADD CONSTRAINT shops_verification_check
        CHECK (verification IN ('unverified', 'pending', 'verified', 'suspended')),
    DROP COLUMN IF EXISTS rejection_reason,
    DROP COLUMN IF EXISTS rejected_by,
    DROP COLUMN IF EXISTS rejected_at;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
