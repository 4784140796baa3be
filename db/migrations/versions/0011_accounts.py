# SPDX-License-Identifier: MIT
"""Accounts and onboarding: invitations, shop verification, dongle pairing codes.

- ``invitations``: an admin invites a person into a role (and a fleet or shop); the invitee
  redeems a one-time token to set their password. Only the token's SHA-256 is stored (the
  token is 256 random bits, so a fast hash loses nothing); it expires, and is used once.
- ``shops.verified_at`` / ``verified_by``: the platform's admission of a shop. Only verified
  shops are matched to orders. Shops the operator creates (directory import, the demo, an
  admin) are verified as they are inserted (the column defaults to now(), and every shop here
  before this revision is verified now); a shop that applied by itself is inserted with NULL
  and waits for an admin.
- ``device_pairing_codes``: the short code on a dongle's label that proves its holder may
  claim the car it is in. Only its argon2 hash is kept; it is used once. ``pairing_attempts``
  records every claim attempt (who, which device or VIN, the outcome), which also bounds how
  many wrong codes one user may try.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE invitations (
    invitation_id  bigserial PRIMARY KEY,
    token_sha256   text NOT NULL UNIQUE,
    email          text NOT NULL CHECK (email ~ '^[^@\\s]+@[^@\\s]+$'),
    role           text NOT NULL
                   CHECK (role IN ('owner', 'shop_staff', 'fleet_manager', 'admin')),
    fleet_id       bigint REFERENCES fleets ON DELETE CASCADE,
    shop_id        bigint REFERENCES shops ON DELETE CASCADE,
    created_by     bigint REFERENCES users ON DELETE SET NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    accepted_at    timestamptz,
    user_id        bigint REFERENCES users ON DELETE SET NULL,
    CHECK (role <> 'fleet_manager' OR fleet_id IS NOT NULL),
    CHECK (role <> 'shop_staff' OR shop_id IS NOT NULL)
);
CREATE INDEX invitations_email ON invitations (lower(email));

ALTER TABLE shops
    ADD COLUMN verified_at timestamptz DEFAULT now(),
    ADD COLUMN verified_by bigint REFERENCES users ON DELETE SET NULL;

CREATE TABLE device_pairing_codes (
    device_id   text PRIMARY KEY REFERENCES devices ON DELETE CASCADE,
    code_hash   text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    used_at     timestamptz,
    used_by     bigint REFERENCES users ON DELETE SET NULL
);

CREATE TABLE pairing_attempts (
    attempt_id  bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    user_id     bigint REFERENCES users ON DELETE CASCADE,
    vin         text,
    device_id   text,
    outcome     text NOT NULL
                CHECK (outcome IN ('claimed', 'already_yours', 'wrong_code', 'owned',
                                   'in_fleet', 'throttled'))
);
CREATE INDEX pairing_attempts_user ON pairing_attempts (user_id, at DESC);
"""

DOWNGRADE = """
DROP TABLE IF EXISTS pairing_attempts, device_pairing_codes, invitations;
ALTER TABLE shops DROP COLUMN IF EXISTS verified_by, DROP COLUMN IF EXISTS verified_at;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
