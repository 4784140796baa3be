# SPDX-License-Identifier: MIT
"""Revision 0014 (batch epochs): existing batches become epoch 0 and keep de-duplicating; the
key takes (device, epoch, seq); going down keeps one row per (device, seq)."""

from __future__ import annotations

import psycopg
import pytest
from alembic.script import ScriptDirectory

from db import migrate as db
from db.migrate import MIGRATIONS

HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()


def _insert(c: psycopg.Connection, seq: int, *, epoch: int | None = None, later_s: int = 0) -> None:
    """A batch row of car-1 received ``later_s`` seconds from now (before 0014: no epoch)."""
    epoch_column = "epoch, " if epoch is not None else ""
    epoch_value = "%(epoch)s, " if epoch is not None else ""
    c.execute(
        f"INSERT INTO batches (device_id, {epoch_column}seq, vehicle_id, received_at, first_time, "
        f"last_time, n_samples) VALUES ('car-1', {epoch_value}%(seq)s, 1, "
        "now() + %(later_s)s * interval '1 s', now(), now(), 4)",
        {"epoch": epoch, "seq": seq, "later_s": later_s},
    )


def test_revision_0014_keys_batches_by_epoch_and_goes_down_and_up(scratch_database):
    url = scratch_database
    db.upgrade(url, "0013")
    with psycopg.connect(url, autocommit=True) as c:
        for seq in (0, 1):
            _insert(c, seq)
    db.upgrade(url, "0014")
    with psycopg.connect(url, autocommit=True) as c:
        assert c.execute("SELECT epoch, seq FROM batches ORDER BY seq").fetchall() == [
            (0, 0),
            (0, 1),
        ]
        key = c.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'batches_pkey'"
        ).fetchone()
        assert key == ("PRIMARY KEY (device_id, epoch, seq)",)
        # A legacy resend conflicts as before; the same seq under epochs 7 and 9 does not.
        with pytest.raises(psycopg.errors.UniqueViolation):
            _insert(c, 1, epoch=0)
        _insert(c, 1, epoch=7, later_s=5)
        _insert(c, 1, epoch=9, later_s=9)
        _insert(c, 2, epoch=7, later_s=5)
        assert c.execute("SELECT count(*) FROM batches").fetchone() == (5,)
        with pytest.raises(psycopg.errors.CheckViolation):
            _insert(c, 3, epoch=-1)
    db.downgrade(url, "0013")
    with psycopg.connect(url, autocommit=True) as c:
        # Of seq 1 the row received last (epoch 9) stays; seq 0 and 2 had no rival.
        received = c.execute(
            "SELECT seq, received_at > now() + interval '8 s' FROM batches ORDER BY seq"
        ).fetchall()
        assert received == [(0, False), (1, True), (2, False)]
        assert "epoch" not in {col.name for col in c.execute("SELECT * FROM batches").description}
    db.upgrade(url)
    assert db.current_revision(url) == HEAD
