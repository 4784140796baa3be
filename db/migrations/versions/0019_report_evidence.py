# SPDX-License-Identifier: MIT
"""A service report's evidence and its signature: photos before and after the work, the
technician's signature, and the platform's Ed25519 signature over the report.

``report_files`` lists what the job card uploaded for an order (``kind`` before, after or
signature); the bytes live in the blob storage (``orders.storage``) under ``storage_key``, the
row keeps their SHA-256 as uploaded. ``report_signatures`` holds, per completed report, the
signature over its canonical document (``orders.attest``), the id of the key that made it (so
keys can rotate), the short code of its public verify page, and the shop's name and the car's
VIN as they were when it was signed (part of what is signed: a shop renamed later does not
make its old reports fail to verify).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE report_files (
    file_id      bigserial PRIMARY KEY,
    order_id     bigint NOT NULL REFERENCES service_orders ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('before', 'after', 'signature')),
    storage_key  text NOT NULL UNIQUE CHECK (char_length(storage_key) <= 200),
    sha256       bytea NOT NULL CHECK (octet_length(sha256) = 32),
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
    size_bytes   integer NOT NULL CHECK (size_bytes > 0),
    width_px     integer NOT NULL CHECK (width_px > 0),
    height_px    integer NOT NULL CHECK (height_px > 0),
    uploaded_at  timestamptz NOT NULL,
    uploaded_by  text
);
CREATE INDEX report_files_order ON report_files (order_id, kind, file_id);
CREATE UNIQUE INDEX report_files_one_signature ON report_files (order_id) WHERE kind = 'signature';

CREATE TABLE report_signatures (
    order_id   bigint PRIMARY KEY REFERENCES service_reports ON DELETE CASCADE,
    code       text NOT NULL UNIQUE CHECK (code ~ '^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$'),
    key_id     text NOT NULL CHECK (char_length(key_id) <= 64),
    shop_name  text NOT NULL,
    vin        text NOT NULL,
    signature  bytea NOT NULL CHECK (octet_length(signature) = 64),
    signed_at  timestamptz NOT NULL
);
"""

DOWNGRADE = """
DROP TABLE IF EXISTS report_signatures, report_files;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
