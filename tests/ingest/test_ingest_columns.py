# SPDX-License-Identifier: MIT
"""``ingest.columns.picked``: columns read by name, in the order asked, loud when missing."""

import psycopg
import pytest

from ingest.columns import picked


def test_columns_come_by_name_whatever_the_query_order(conn: psycopg.Connection) -> None:
    with conn.cursor(row_factory=picked("device_id", "seq")) as cur:
        rows = cur.execute(
            "SELECT 7 AS seq, 'x' AS other, 'dev-' || g AS device_id FROM generate_series(1, 2) g"
        ).fetchall()
    assert rows == [("dev-1", 7), ("dev-2", 7)]


def test_a_column_the_query_lacks_fails_at_once(conn: psycopg.Connection) -> None:
    with (
        conn.cursor(row_factory=picked("device_id", "epoch")) as cur,
        pytest.raises(psycopg.ProgrammingError, match="epoch"),
    ):
        cur.execute("SELECT 'd' AS device_id, 1 AS seq").fetchall()


def test_one_column_is_a_scalar_not_a_pick() -> None:
    with pytest.raises(ValueError, match="scalar"):
        picked("device_id")
