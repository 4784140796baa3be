# SPDX-License-Identifier: MIT
"""Revision 0011 (accounts) goes down and up again, and counts the shops it finds as verified."""

from __future__ import annotations

import psycopg

from db import migrate as db


def test_revision_0011_goes_down_and_up_and_keeps_existing_shops_matched(scratch_database):
    url = scratch_database
    db.upgrade(url, "0010")
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("INSERT INTO shops (name, lat, lon) VALUES ('Imported before', 1, 1)")
    db.upgrade(url, "0011")  # later revisions are not this test's
    assert db.current_revision(url) == "0011"
    with psycopg.connect(url, autocommit=True) as c:
        assert c.execute("SELECT verified_at IS NOT NULL FROM shops").fetchone()[0] is True
        c.execute(
            "INSERT INTO invitations (token_sha256, email, role, expires_at) "
            "VALUES ('x', 'a@b.test', 'owner', now())"
        )
    db.downgrade(url, "0010")
    with psycopg.connect(url, autocommit=True) as c:
        for table in ("invitations", "device_pairing_codes", "pairing_attempts"):
            assert c.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is None
        columns = c.execute(
            "SELECT count(*) FROM information_schema.columns "
            "WHERE table_name = 'shops' AND column_name LIKE 'verified%%'"
        ).fetchone()[0]
        assert columns == 0
    db.upgrade(url, "0011")  # later revisions are not this test's
    assert db.current_revision(url) == "0011"
