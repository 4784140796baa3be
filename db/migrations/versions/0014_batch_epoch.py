# SPDX-License-Identifier: MIT
"""Batch epochs: de-duplicate on (device, epoch, seq), so a device that counts from 0 again
(a new buffer file, a re-flash, a restored backup) is not taken for one resending old batches.

- ``batches.epoch``: the epoch the device sent (wire v2); 0 for every batch stored before and
  for legacy v1 batches, which therefore de-duplicate exactly as they did.
- The primary key becomes (device_id, epoch, seq). Adding a column with a constant default
  rewrites nothing; rebuilding the key reads the table once.

Downgrade keeps, of the rows that share a (device, seq) in different epochs, the one received
last (the epoch a device is most likely still resending from) and drops the others: the old key
cannot hold them. Their readings stay; only the record that they were received goes.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE batches ADD COLUMN epoch bigint NOT NULL DEFAULT 0 CHECK (epoch >= 0);
ALTER TABLE batches DROP CONSTRAINT batches_pkey;
ALTER TABLE batches ADD CONSTRAINT batches_pkey PRIMARY KEY (device_id, epoch, seq);
"""

DOWNGRADE = """
DELETE FROM batches b USING batches newer
WHERE b.device_id = newer.device_id AND b.seq = newer.seq AND b.epoch <> newer.epoch
  AND (b.received_at, b.epoch) < (newer.received_at, newer.epoch);
ALTER TABLE batches DROP CONSTRAINT batches_pkey;
ALTER TABLE batches DROP COLUMN epoch;
ALTER TABLE batches ADD CONSTRAINT batches_pkey PRIMARY KEY (device_id, seq);
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
