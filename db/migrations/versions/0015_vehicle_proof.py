# SPDX-License-Identifier: MIT
"""Vehicle proof: a VIN typed into the API reserves nothing a real dongle can prove otherwise.

- ``vehicles.vin_proven``: whether the car's holder proved it. An owner's ``POST /vehicles``
  is unproven until they claim the car with the pairing code of a provisioned dongle on it;
  admins and fleets (vetted tenants) vouch for theirs. Rows already there, and rows inserted
  by provisioning (``db.registry``, the demo), are proven: true by default.
- ``devices.provisioned``: whether the device was provisioned by someone who vouches for it
  (an admin, a fleet, ``db.registry``), so that its pairing code proves its car. An owner's
  ``POST /devices`` makes a device that proves nothing: false.
- ``devices_provisioned_vehicle``: the access predicate asks "has this car a provisioned
  dongle" for every unproven owner's vehicle read.
- ``pairing_attempts``: outcome ``took_over`` (a proven claim replaced an unproven owner,
  named in ``displaced_user_id``).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from alembic import op

revision = "0015"
# The integrator chains this after 0014; until 0014 exists on this branch, tests run it on 0013.
down_revision = "0014"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE vehicles ADD COLUMN vin_proven boolean NOT NULL DEFAULT true;
ALTER TABLE devices ADD COLUMN provisioned boolean NOT NULL DEFAULT true;
CREATE INDEX devices_provisioned_vehicle ON devices (vehicle_id) WHERE provisioned;
ALTER TABLE pairing_attempts
    ADD COLUMN displaced_user_id bigint REFERENCES users ON DELETE SET NULL,
    DROP CONSTRAINT pairing_attempts_outcome_check,
    ADD CONSTRAINT pairing_attempts_outcome_check
        CHECK (outcome IN ('claimed', 'already_yours', 'wrong_code', 'owned', 'in_fleet',
                           'throttled', 'took_over'));
"""

DOWNGRADE = """
DELETE FROM pairing_attempts WHERE outcome = 'took_over';
ALTER TABLE pairing_attempts
    DROP CONSTRAINT pairing_attempts_outcome_check,
    ADD CONSTRAINT pairing_attempts_outcome_check
        CHECK (outcome IN ('claimed', 'already_yours', 'wrong_code', 'owned', 'in_fleet',
                           'throttled')),
    DROP COLUMN IF EXISTS displaced_user_id;
DROP INDEX IF EXISTS devices_provisioned_vehicle;
ALTER TABLE devices DROP COLUMN IF EXISTS provisioned;
ALTER TABLE vehicles DROP COLUMN IF EXISTS vin_proven;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
