# SPDX-License-Identifier: MIT
"""A vehicle's mass and body type as its registration says them (issue 19, item 5).

``mass_kg`` was NOT NULL DEFAULT 1400: every car weighed 1,400 kg because nobody could say
otherwise. It becomes the registered kerb mass, null when not given (500-4,000 kg when
given); ``body_type`` names the body class (predictive.mass.BODY_TYPES, kept equal by a
test), null when not known. The pad model takes the registered mass, else the body type's
default, else a wide unknown default. The 1,400 kg that only the old default put there is
no registration: it becomes null. Masses outside the new range (none a person could have
set) become null too.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-08
"""

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE vehicles ALTER COLUMN mass_kg DROP NOT NULL;
ALTER TABLE vehicles ALTER COLUMN mass_kg DROP DEFAULT;
ALTER TABLE vehicles DROP CONSTRAINT IF EXISTS vehicles_mass_kg_check;
UPDATE vehicles SET mass_kg = NULL
    WHERE mass_kg = 1400 OR mass_kg < 500 OR mass_kg > 4000;
ALTER TABLE vehicles ADD CONSTRAINT vehicles_mass_kg_check
    CHECK (mass_kg BETWEEN 500 AND 4000);
ALTER TABLE vehicles ADD COLUMN body_type text
    CHECK (body_type IN ('small', 'compact', 'midsize', 'suv', 'pickup', 'van'));
"""

DOWNGRADE = """
ALTER TABLE vehicles DROP COLUMN IF EXISTS body_type;
ALTER TABLE vehicles DROP CONSTRAINT IF EXISTS vehicles_mass_kg_check;
UPDATE vehicles SET mass_kg = 1400 WHERE mass_kg IS NULL;
ALTER TABLE vehicles ALTER COLUMN mass_kg SET DEFAULT 1400;
ALTER TABLE vehicles ALTER COLUMN mass_kg SET NOT NULL;
ALTER TABLE vehicles ADD CONSTRAINT vehicles_mass_kg_check CHECK (mass_kg > 0);
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
