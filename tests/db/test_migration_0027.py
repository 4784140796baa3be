# SPDX-License-Identifier: MIT
"""Revision 0027 (shop roles): existing shop staff and their pending invitations become
managers, so nobody loses a right; other roles have no shop role, and a shop staff account
without one is refused; going down drops the column."""

from __future__ import annotations

import psycopg
import pytest

from db import migrate as db


def test_revision_0027_makes_existing_staff_managers_and_goes_down(scratch_database):
    url = scratch_database
    db.upgrade(url, "0026")
    with psycopg.connect(url, autocommit=True) as c:
        shop = c.execute(
            "INSERT INTO shops (name, lat, lon, capabilities) "
            "VALUES ('Old garage', 1, 1, '{oil_change}') RETURNING shop_id"
        ).fetchone()[0]
        c.execute(
            "INSERT INTO users (email, role, shop_id) VALUES ('sam@old.example', 'shop_staff', %s)",
            (shop,),
        )
        c.execute("INSERT INTO users (email, role) VALUES ('olga@old.example', 'owner')")
        c.execute(
            "INSERT INTO invitations (token_sha256, email, role, shop_id, expires_at) "
            "VALUES ('ab', 'kim@old.example', 'shop_staff', %s, now())",
            (shop,),
        )
    db.upgrade(url, "0027")  # later revisions are not this test's
    with psycopg.connect(url, autocommit=True) as c:
        roles = dict(c.execute("SELECT email, shop_role FROM users").fetchall())
        assert roles == {"sam@old.example": "manager", "olga@old.example": None}
        assert c.execute("SELECT shop_role FROM invitations").fetchone() == ("manager",)
        with pytest.raises(psycopg.errors.CheckViolation):
            c.execute(
                "INSERT INTO users (email, role, shop_id) VALUES ('x@old.example', "
                "'shop_staff', %s)",
                (shop,),
            )
        with pytest.raises(psycopg.errors.CheckViolation):
            c.execute(
                "INSERT INTO users (email, role, shop_role) "
                "VALUES ('y@old.example', 'owner', 'manager')"
            )
    db.downgrade(url, "0026")
    with psycopg.connect(url, autocommit=True) as c:
        gone = c.execute(
            "SELECT count(*) FROM information_schema.columns WHERE column_name = 'shop_role'"
        ).fetchone()
        assert gone == (0,)
    db.upgrade(url, "0027")
