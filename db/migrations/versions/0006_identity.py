# SPDX-License-Identifier: MIT
"""Identity and access: users, vehicle ownership, API keys, device MQTT credentials, audit log.

- ``users``: one row per person; ``role`` is owner, shop_staff, fleet_manager or admin, and
  tenancy is ``fleet_id`` (a fleet manager's fleet) and/or ``shop_id`` (a shop's staff). The
  checks make a fleet manager without a fleet, or shop staff without a shop, impossible.
  ``password_hash`` is an argon2 hash, NULL for users who only call with API keys.
- ``vehicles.owner_user_id``: the owner who sees the vehicle; a fleet's vehicles are seen by
  the fleet's managers through ``vehicles.fleet_id``.
- ``api_keys``: ``prefix`` finds the row, ``secret_hash`` (argon2) proves the key; the secret
  itself is shown once and never stored. Revoked keys keep their row for the audit log.
- ``device_credentials``: MQTT username and hashed secret per device, apart from user
  credentials: a leaked device secret opens one device's topics and never the API. At most one
  active credential per device; rotating revokes the old one.
- ``audit_log``: who (user, key), what (method, route, object, status) and when, for writes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE users (
    user_id        bigserial PRIMARY KEY,
    email          text NOT NULL CHECK (email ~ '^[^@\\s]+@[^@\\s]+$'),
    password_hash  text,
    role           text NOT NULL
                   CHECK (role IN ('owner', 'shop_staff', 'fleet_manager', 'admin')),
    fleet_id       bigint REFERENCES fleets,
    shop_id        bigint REFERENCES shops,
    disabled       boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (role <> 'fleet_manager' OR fleet_id IS NOT NULL),
    CHECK (role <> 'shop_staff' OR shop_id IS NOT NULL)
);
CREATE UNIQUE INDEX users_email ON users (lower(email));
CREATE INDEX users_fleet ON users (fleet_id) WHERE fleet_id IS NOT NULL;
CREATE INDEX users_shop ON users (shop_id) WHERE shop_id IS NOT NULL;

ALTER TABLE vehicles ADD COLUMN owner_user_id bigint REFERENCES users;
CREATE INDEX vehicles_owner ON vehicles (owner_user_id) WHERE owner_user_id IS NOT NULL;
CREATE INDEX vehicles_fleet ON vehicles (fleet_id) WHERE fleet_id IS NOT NULL;

CREATE TABLE api_keys (
    key_id        bigserial PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users,
    prefix        text NOT NULL UNIQUE,
    secret_hash   text NOT NULL,
    name          text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX api_keys_user ON api_keys (user_id);

CREATE TABLE device_credentials (
    credential_id  bigserial PRIMARY KEY,
    device_id      text NOT NULL REFERENCES devices ON DELETE CASCADE,
    username       text NOT NULL,
    secret_hash    text NOT NULL,
    created_by     bigint REFERENCES users,
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz
);
CREATE UNIQUE INDEX device_credentials_active ON device_credentials (device_id)
    WHERE revoked_at IS NULL;
CREATE UNIQUE INDEX device_credentials_username ON device_credentials (username)
    WHERE revoked_at IS NULL;

CREATE TABLE audit_log (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    user_id      bigint REFERENCES users,
    key_id       bigint REFERENCES api_keys,
    method       text NOT NULL,
    route        text NOT NULL,
    path         text NOT NULL,
    status       int NOT NULL,
    object_type  text,
    object_id    text
);
CREATE INDEX audit_log_at ON audit_log (at DESC);
CREATE INDEX audit_log_user ON audit_log (user_id, at DESC);
"""

DOWNGRADE = """
DROP TABLE IF EXISTS audit_log, device_credentials, api_keys;
ALTER TABLE vehicles DROP COLUMN IF EXISTS owner_user_id;
DROP INDEX IF EXISTS vehicles_fleet;
DROP TABLE IF EXISTS users;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
