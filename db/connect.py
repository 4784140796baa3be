# SPDX-License-Identifier: MIT
"""Connections and pools (psycopg 3)."""

from __future__ import annotations

import psycopg
from psycopg_pool import ConnectionPool

DatabaseError = psycopg.Error


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection:
    """Open one connection to the database at ``url`` (a libpq URL)."""
    return psycopg.connect(url, autocommit=autocommit, application_name="wrenchlight")


def make_pool(
    url: str, *, min_size: int = 1, max_size: int = 8, name: str = "wrenchlight"
) -> ConnectionPool:
    """A connection pool, opened and waiting until its first connection works."""
    pool = ConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        name=name,
        open=False,
        kwargs={"application_name": name},
    )
    pool.open(wait=True, timeout=30)
    return pool
