# SPDX-License-Identifier: MIT
"""Revision 0023 (the admin's console): shops already there stay verified and matched, and a
new operator-made shop is verified as it is inserted; a rejection and an audit row's detail
are kept; going down with a rejected shop leaves it unverified under the old check."""

from __future__ import annotations

import psycopg

from db import migrate as db
from orders.matching import nearest_shops


def test_revision_0023_keeps_shops_verified_and_goes_down_with_a_rejected_one(scratch_database):
    url = scratch_database
    db.upgrade(url, "0018")
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(
            "INSERT INTO shops (name, lat, lon, capabilities) "
            "VALUES ('Demo garage', 1, 1, '{oil_change}')"
        )
    db.upgrade(url, "0023")  # later revisions are not this test's
    assert db.current_revision(url) == "0023"
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(
            "INSERT INTO shops (name, lat, lon, capabilities) "
            "VALUES ('Imported after', 1, 1.01, '{oil_change}')"
        )
        c.execute(
            "INSERT INTO shops (name, lat, lon, capabilities, verified_at, verification, "
            "rejected_at, rejection_reason) VALUES ('Applied', 1, 1.001, '{oil_change}', NULL, "
            "'rejected', now(), 'no garage')"
        )
        matched = nearest_shops(conn=c, lat=1, lon=1, capability="oil_change", limit=10)
        assert [m.name for m in matched] == ["Demo garage", "Imported after"]
        c.execute(
            "INSERT INTO audit_log (method, route, path, status, detail) "
            "VALUES ('POST', '/x', '/x', 303, 'verified shop 1')"
        )
    db.downgrade(url, "0018")
    with psycopg.connect(url, autocommit=True) as c:
        rows = c.execute("SELECT name, verification FROM shops ORDER BY shop_id").fetchall()
        assert rows[2] == ("Applied", "unverified")
        gone = c.execute(
            "SELECT count(*) FROM information_schema.columns WHERE (table_name = 'shops' "
            "AND column_name LIKE 'reject%%') OR (table_name = 'audit_log' "
            "AND column_name = 'detail')"
        ).fetchone()
        assert gone == (0,)
    db.upgrade(url, "0023")
